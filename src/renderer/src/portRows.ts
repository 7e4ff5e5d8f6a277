import type { Timeline } from '../../shared/contract';

/** Which rows of the port history to show, and in what order. Pure, so the toolbar is tested alone. */

export type PortRow = Timeline['ports'][number];

export type PortSort = 'port' | 'process' | 'held' | 'new';

export const SORT_LABELS: Record<PortSort, string> = {
  port: 'Port number',
  process: 'Process',
  held: 'Most held',
  new: 'Newest first',
};

export interface PortFilter {
  /** A port number, or a piece of one ("80" matches 80, 8080, 8000). */
  port: string;
  /** A piece of a process name, any case. */
  process: string;
  proto: 'any' | 'tcp' | 'udp';
  /** Only ports first seen in the last seven days. */
  newThisWeek: boolean;
}

export const NO_FILTER: PortFilter = { port: '', process: '', proto: 'any', newThisWeek: false };

const WEEK_MS = 7 * 86_400_000;

export function matches(row: PortRow, filter: PortFilter, now: number): boolean {
  const port = filter.port.trim();
  if (port !== '' && !String(row.port).includes(port)) return false;
  const process = filter.process.trim().toLowerCase();
  if (process !== '' && !row.processes.some((p) => p.toLowerCase().includes(process))) return false;
  if (filter.proto !== 'any' && row.proto !== filter.proto) return false;
  if (filter.newThisWeek && row.firstSeenAt < now - WEEK_MS) return false;
  return true;
}

/** The share of the range's rounds in which a row was held (its buckets weighted alike). */
function heldShare(row: PortRow): number {
  return row.occupancy.reduce((s, v) => s + v, 0);
}

const byPort = (a: PortRow, b: PortRow) => a.port - b.port || a.proto.localeCompare(b.proto);

export function sortRows(rows: readonly PortRow[], sort: PortSort): PortRow[] {
  const out = [...rows];
  switch (sort) {
    case 'port':
      return out.sort(byPort);
    case 'process':
      // Ports of no known process last.
      return out.sort((a, b) => {
        const pa = a.processes[0]?.toLowerCase();
        const pb = b.processes[0]?.toLowerCase();
        if (pa === pb) return byPort(a, b);
        if (pa === undefined) return 1;
        if (pb === undefined) return -1;
        return pa.localeCompare(pb);
      });
    case 'held':
      return out.sort((a, b) => heldShare(b) - heldShare(a) || byPort(a, b));
    case 'new':
      return out.sort((a, b) => b.firstSeenAt - a.firstSeenAt || byPort(a, b));
  }
}

export function visibleRows(rows: readonly PortRow[], filter: PortFilter, sort: PortSort, now: number): PortRow[] {
  return sortRows(
    rows.filter((r) => matches(r, filter, now)),
    sort,
  );
}
