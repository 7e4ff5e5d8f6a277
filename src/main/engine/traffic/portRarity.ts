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
  /** Per (protocol, port) asked about: when its first RARE remote ends were first seen, oldest first. */
  private readonly firsts = new Map<string, number[]>();
  private readonly query;
  /** Remote ends first seen before this count (see advance). */
  private before: number;

  /**
   * The machine as known before `from`, moved on by `advance` up to `to` as the windows of a run
   * go by. Nothing is read up front: each (protocol, port) a row talks to is looked up once, by
   * remote_endpoints_port (migration 013), a few index steps whatever the number of remote ends
   * ever seen, and never more than RARE of its rows.
   */
  constructor(
    db: Db,
    private readonly from: number,
    private readonly to = from,
  ) {
    this.query = db.prepare<[string, number, number], number>('SELECT first_seen_at FROM remote_endpoints WHERE proto = ? AND port = ? ORDER BY first_seen_at LIMIT ?').pluck();
    this.before = from;
  }

  /**
   * Counts the remote ends first seen before `before` (at most `to`; times increasing from call to
   * call): each window of a run is judged by the machine as it was at its start, as an hourly run
   * would have judged it, not by the machine at the start of a run over a day of backlog.
   */
  advance(before: number): void {
    this.before = Math.max(this.before, Math.max(this.from, Math.min(before, this.to)));
  }

  /** Share of the row's outbound remote ends (with a port) on a rare port; 0 without any. */
  share(row: Pick<TrafficRow, 'endpoints'>): number {
    const out = row.endpoints.filter((e) => e.direction === 'out' && e.port > 0);
    if (out.length === 0) return 0;
    return out.filter((e) => this.seenBefore(e.proto, e.port) < RARE).length / out.length;
  }

  /** Remote ends on (proto, port) first seen before the current time, counted up to RARE. */
  private seenBefore(proto: string, port: number): number {
    const key = `${proto}/${port}`;
    let times = this.firsts.get(key);
    if (!times) {
      times = this.query.all(proto, port, RARE);
      this.firsts.set(key, times);
    }
    let n = 0;
    while (n < times.length && times[n]! < this.before) n++;
    return n;
  }
}
