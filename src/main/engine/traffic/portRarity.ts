import type { Db } from '../store/database';
import type { TrafficRow } from './trafficRow';

/**
 * How unusual the remote ports of a row's outbound connections are on this machine: the share of
 * its remote ends whose (protocol, port) fewer than RARE distinct remote ends had used before. A
 * browser, a mail client and an updater talk to 443, 993 and 80 of many hosts; a reverse shell to
 * 4444 or 8080 of one. The window features count remote ports and their entropy, not which ports
 * they are, and a port number itself means nothing to an autoencoder; its rarity here does.
 */
export const RARE = 3;

export class PortRarity {
  private readonly counts = new Map<string, number>();

  /** Counts of remote ends per (protocol, port) first seen before `before`: one grouped scan of remote_endpoints. */
  constructor(db: Db, before: number) {
    const rows = db
      .prepare<[number], { proto: string; port: number; n: number }>('SELECT proto, port, count(*) AS n FROM remote_endpoints WHERE first_seen_at < ? AND port > 0 GROUP BY proto, port')
      .all(before);
    for (const r of rows) this.counts.set(`${r.proto}/${r.port}`, r.n);
  }

  /** Share of the row's outbound remote ends (with a port) on a rare port; 0 without any. */
  share(row: Pick<TrafficRow, 'endpoints'>): number {
    const out = row.endpoints.filter((e) => e.direction === 'out' && e.port > 0);
    if (out.length === 0) return 0;
    return out.filter((e) => (this.counts.get(`${e.proto}/${e.port}`) ?? 0) < RARE).length / out.length;
  }
}
