import type { CellError } from './score';
import type { IncidentPortRow } from '../store/detectionStore';

/**
 * Anomalous rounds become incidents, and incidents get their explanation. Pure: the caller
 * supplies per-round top cells and what the database knows about each port.
 */
export interface ScoredRound {
  roundId: number;
  startedAt: number;
  score: number;
  anomalous: boolean;
  /** Largest-error cells of this round (only needed for anomalous rounds). */
  cells?: CellError[];
  /** Anomalous not by its own score but because what raised the incident before it is still there. */
  continued?: boolean;
}

export interface RoundGroup {
  rounds: ScoredRound[];
}

/**
 * Consecutive anomalous rounds (no normal round and no time gap longer than `maxStepMs` between
 * them) form one group. `previousEnd`, the last round of the newest stored incident if it is the
 * round right before `rounds[0]`, lets an incident continue across hourly runs.
 */
export function mergeAnomalous(rounds: readonly ScoredRound[], maxStepMs: number): RoundGroup[] {
  const groups: RoundGroup[] = [];
  let current: ScoredRound[] | null = null;
  let prev: ScoredRound | null = null;
  for (const r of rounds) {
    const consecutive = prev !== null && r.startedAt - prev.startedAt <= maxStepMs;
    if (r.anomalous) {
      if (current && consecutive && prev?.anomalous) current.push(r);
      else {
        current = [r];
        groups.push({ rounds: current });
      }
    } else current = null;
    prev = r;
  }
  return groups;
}

/**
 * An incident lasts as long as what raised it. The model predicts each round from the rounds
 * before it, so once a listener that should not be there has been open for a window's length,
 * the model expects it to stay, its error drops and the following rounds would score as normal:
 * they would be trained on (the intrusion learned as normal after its first minutes) and their
 * scores would join the threshold's calibration pool (measured: the threshold climbed from 4.5
 * to the 12.6 ceiling within two simulated days, until a known service at an unusual hour could
 * no longer alert). So a round directly after an anomalous one is anomalous too while any port
 * whose opening raised the incident (occupied, error above the threshold) is still open.
 * Vanished ports do not carry an incident: an absence is not something to keep out of training,
 * and a service that stopped for the night would otherwise stretch an incident to the morning.
 * `carried` holds such cells of an incident that ran up to the round before `rounds[0]`.
 */
export function continueIncidents(
  rounds: readonly ScoredRound[],
  threshold: number,
  occupiedCells: (round: ScoredRound) => ReadonlySet<number>,
  maxStepMs: number,
  carried: Iterable<number> = [],
): ScoredRound[] {
  let open = new Set(carried);
  let prev: ScoredRound | null = null;
  return rounds.map((r) => {
    if (prev !== null && r.startedAt - prev.startedAt > maxStepMs) open = new Set();
    prev = r;
    const occupied = occupiedCells(r);
    const stillOpen = [...open].filter((c) => occupied.has(c));
    if (r.anomalous) {
      open = new Set([...stillOpen, ...(r.cells ?? []).filter((c) => c.occupied && c.error > threshold).map((c) => c.cell)]);
      return r;
    }
    open = new Set(stillOpen);
    return stillOpen.length > 0 ? { ...r, anomalous: true, continued: true } : r;
  });
}

/** The cell index of a (proto, port), as features.ts lays them out. */
export function cellOf(proto: 'tcp' | 'udp', port: number, channels: number): number {
  return port * channels + (proto === 'tcp' ? 0 : 1);
}

export type Direction = 'appeared' | 'vanished' | 'unusual-hour';

export interface PortFacts {
  /** Normal rounds in which this (proto, port) was occupied: "is it a known port?". */
  normalRounds: number;
  firstSeenAt: number | null;
  process: string | null;
  exe: string | null;
  pid: number | null;
}

/** A port in an incident's explanation, as it is stored. */
export type ExplainedPort = IncidentPortRow;

/** A port is "known" once it was occupied in this many normal rounds. */
export const KNOWN_PORT_ROUNDS = 3;

/**
 * An occupied cell the model did not expect is "unusual-hour" when the port is known from
 * normal history (the model learned it, just not for this time), else "appeared". A free cell
 * it expected occupied "vanished".
 */
export function directionOf(cell: Pick<CellError, 'occupied'>, facts: Pick<PortFacts, 'normalRounds'>): Direction {
  if (!cell.occupied) return 'vanished';
  return facts.normalRounds >= KNOWN_PORT_ROUNDS ? 'unusual-hour' : 'appeared';
}

/**
 * The ports that explain a group: per-cell errors summed over the group's rounds, the largest
 * first, each with its share of the error of all cells listed for the group (each round's top
 * cells; the background of 131,000 near-certain cells is left out), until `maxPorts` or shares
 * under `minShare` or errors under `minOfTop` of the largest (the background surprise every round
 * has is not part of the story).
 */
export function topContributors(group: RoundGroup, maxPorts = 5, minShare = 0.02, minOfTop = 0.2): { cell: CellError; share: number }[] {
  const sums = new Map<number, { cell: CellError; error: number }>();
  let total = 0;
  for (const r of group.rounds) {
    for (const c of r.cells ?? []) {
      total += c.error;
      const e = sums.get(c.cell);
      if (e) {
        e.error += c.error;
        if (c.error > e.cell.error) e.cell = c;
      } else sums.set(c.cell, { cell: c, error: c.error });
    }
  }
  const ranked = [...sums.values()].sort((a, b) => b.error - a.error);
  const out: { cell: CellError; share: number }[] = [];
  for (const { cell, error } of ranked) {
    const share = total > 0 ? Math.min(1, error / total) : 0;
    if (out.length >= maxPorts || (out.length > 0 && (share < minShare || error < minOfTop * ranked[0]!.error))) break;
    out.push({ cell, share });
  }
  return out;
}

function owner(p: ExplainedPort): string {
  const who = p.exe ?? p.process;
  if (!who) return 'owner unknown';
  return p.pid != null ? `${who} (pid ${p.pid})` : who;
}

function sinceText(p: ExplainedPort, incidentStart: number): string {
  if (p.firstSeenAt == null || p.firstSeenAt >= incidentStart - 60_000) return 'never seen before';
  return `first seen ${new Date(p.firstSeenAt).toISOString().slice(0, 16).replace('T', ' ')}`;
}

/** One sentence for the notification, naming the top port, its process and its history. */
export function sentence(ports: readonly ExplainedPort[], incidentStart: number): string {
  const top = ports[0];
  if (!top) return 'Unusual port activity (no single port stands out).';
  const name = `Port ${top.port}/${top.proto}`;
  let text: string;
  switch (top.direction) {
    case 'appeared':
      text = `${name} started ${top.proto === 'tcp' ? 'listening' : 'receiving'}: ${owner(top)}, ${sinceText(top, incidentStart)}`;
      break;
    case 'vanished':
      text = `${name} stopped ${top.proto === 'tcp' ? 'listening' : 'being bound'}${top.exe ?? top.process ? ` (last held by ${owner(top)})` : ''}, though it is usually open at this time`;
      break;
    case 'unusual-hour':
      text = `${name} is open at an unusual time: ${owner(top)}; it is known (${sinceText(top, incidentStart)}) but not usually at this hour`;
      break;
  }
  const more = ports.length - 1;
  return more > 0 ? `${text}; and ${more} other port${more > 1 ? 's' : ''}.` : `${text}.`;
}
