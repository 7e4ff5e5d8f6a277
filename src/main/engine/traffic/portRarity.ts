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
  /** Remote ends first seen in [from, to), oldest first, not counted yet. */
  private readonly later: { key: string; at: number }[];
  private next = 0;

  /**
   * Counts of remote ends per (protocol, port) first seen before `from` (one grouped scan of
   * remote_endpoints), and the remote ends first seen in [from, to) to count as the windows of a
   * run go by (`advance`).
   */
  constructor(db: Db, from: number, to = from) {
    const rows = db
      .prepare<[number], { proto: string; port: number; n: number }>('SELECT proto, port, count(*) AS n FROM remote_endpoints WHERE first_seen_at < ? AND port > 0 GROUP BY proto, port')
      .all(from);
    for (const r of rows) this.counts.set(`${r.proto}/${r.port}`, r.n);
    this.later = db
      .prepare<[number, number], { proto: string; port: number; at: number }>(
        'SELECT proto, port, first_seen_at AS at FROM remote_endpoints WHERE first_seen_at >= ? AND first_seen_at < ? AND port > 0 ORDER BY first_seen_at',
      )
      .all(from, to)
      .map((r) => ({ key: `${r.proto}/${r.port}`, at: r.at }));
  }

  /**
   * Counts the remote ends first seen before `before` (at most `to`; times increasing from call to
   * call): each window of a run is judged by the machine as it was at its start, as an hourly run
   * would have judged it, not by the machine at the start of a run over a day of backlog.
   */
  advance(before: number): void {
    while (this.next < this.later.length && this.later[this.next]!.at < before) {
      const { key } = this.later[this.next++]!;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    }
  }

  /** Share of the row's outbound remote ends (with a port) on a rare port; 0 without any. */
  share(row: Pick<TrafficRow, 'endpoints'>): number {
    const out = row.endpoints.filter((e) => e.direction === 'out' && e.port > 0);
    if (out.length === 0) return 0;
    return out.filter((e) => (this.counts.get(`${e.proto}/${e.port}`) ?? 0) < RARE).length / out.length;
  }
}
