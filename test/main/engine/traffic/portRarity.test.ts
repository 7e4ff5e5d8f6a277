import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { PortRarity, RARE } from '../../../../src/main/engine/traffic/portRarity';
import type { TrafficRow } from '../../../../src/main/engine/traffic/trafficRow';
import { seededRandom } from '../../../../src/shared/random';
import { openTestDb } from '../../../support/db';

let db: Db;
beforeEach(() => ({ db } = openTestDb()));
afterEach(() => db.close());

/**
 * The rarity as it was computed before (every remote end ever seen grouped by port up front,
 * then those of the run counted as it went): what PortRarity must still give.
 */
class GroupedRarity {
  private readonly counts = new Map<string, number>();
  private readonly later: { key: string; at: number }[];
  private next = 0;
  constructor(db: Db, from: number, to = from) {
    for (const r of db.prepare<[number], { proto: string; port: number; n: number }>('SELECT proto, port, count(*) AS n FROM remote_endpoints WHERE first_seen_at < ? AND port > 0 GROUP BY proto, port').all(from)) {
      this.counts.set(`${r.proto}/${r.port}`, r.n);
    }
    this.later = db
      .prepare<[number, number], { proto: string; port: number; at: number }>('SELECT proto, port, first_seen_at AS at FROM remote_endpoints WHERE first_seen_at >= ? AND first_seen_at < ? AND port > 0 ORDER BY first_seen_at')
      .all(from, to)
      .map((r) => ({ key: `${r.proto}/${r.port}`, at: r.at }));
  }
  advance(before: number): void {
    while (this.next < this.later.length && this.later[this.next]!.at < before) {
      const { key } = this.later[this.next++]!;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    }
  }
  share(row: Pick<TrafficRow, 'endpoints'>): number {
    const out = row.endpoints.filter((e) => e.direction === 'out' && e.port > 0);
    if (out.length === 0) return 0;
    return out.filter((e) => (this.counts.get(`${e.proto}/${e.port}`) ?? 0) < RARE).length / out.length;
  }
}

type Endpoint = TrafficRow['endpoints'][number];
const endpoint = (proto: 'tcp' | 'udp', port: number, direction: 'out' | 'in' = 'out') => ({ proto, port, direction }) as unknown as Endpoint;

describe('PortRarity', () => {
  it('gives what grouping every remote end gave, window after window, on a random history', () => {
    const r = seededRandom(5);
    const insert = db.prepare('INSERT INTO remote_endpoints (proto, address, port, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?)');
    // Ports from very common to seen once; remote ends first seen over 10,000 minutes.
    const ports = [0, 443, 80, 993, 4444, 8080, 9001, 53, 123, 51820, 60000];
    db.transaction(() => {
      for (let i = 0; i < 3000; i++) {
        const port = ports[Math.floor(r() ** 3 * ports.length)]!;
        const at = Math.floor(r() * 10_000) * 60_000;
        insert.run(r() < 0.8 ? 'tcp' : 'udp', `198.18.${i >> 8}.${i & 255}`, port, at, at);
      }
    })();
    const rows = ports.flatMap((port) => [endpoint('tcp', port), endpoint('udp', port), endpoint('tcp', port, 'in')]).map((e) => ({ endpoints: [e, endpoint('tcp', 443)] }));
    rows.push({ endpoints: [] }, { endpoints: [endpoint('tcp', 4444, 'in')] });
    for (const [from, to] of [
      [0, 0],
      [0, 600_000_000],
      [30_000_000, 90_000_000],
      [90_000_000, 30_000_000],
      [599_000_000, 700_000_000],
    ] as const) {
      const grouped = new GroupedRarity(db, from, to);
      const indexed = new PortRarity(db, from, to);
      let at = from - 5 * 60_000;
      for (let step = 0; step < 40; step++) {
        grouped.advance(at);
        indexed.advance(at);
        for (const row of rows) expect(indexed.share(row)).toBe(grouped.share(row));
        at += Math.floor(r() * 4_000_000);
      }
    }
  });

  it('looks each port up by remote_endpoints_port, not by grouping every remote end', () => {
    const insert = db.prepare('INSERT INTO remote_endpoints (proto, address, port, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < 20_000; i++) insert.run('tcp', `198.18.${i >> 8}.${i & 255}`, 443, i, i);
    })();
    const plan = db
      .prepare<[string, number, number], { detail: string }>('EXPLAIN QUERY PLAN SELECT first_seen_at FROM remote_endpoints WHERE proto = ? AND port = ? ORDER BY first_seen_at LIMIT ?')
      .all('tcp', 443, RARE)
      .map((r) => r.detail);
    expect(plan).toEqual(['SEARCH remote_endpoints USING COVERING INDEX remote_endpoints_port (proto=? AND port=?)']);
    const rarity = new PortRarity(db, 2, 30_000);
    expect(rarity.share({ endpoints: [endpoint('tcp', 443), endpoint('tcp', 4444)] })).toBe(1);
    rarity.advance(3);
    expect(rarity.share({ endpoints: [endpoint('tcp', 443), endpoint('tcp', 4444)] })).toBe(0.5);
  });
});
