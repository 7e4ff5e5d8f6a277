import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import type { SocketEntry } from '../../../../src/main/engine/collect/sockets/types';
import { EXTEND_SQL, KEEP_ROUNDS, MAX_RUN_ROUNDS, OPEN_SQL, RoundCompactor } from '../../../../src/main/engine/store/compaction';
import { runCleanup } from '../../../../src/main/engine/maintain/cleanup';
import { silentLogger } from '../../../../src/main/engine/log';
import { defaultSettings } from '../../../../src/shared/settings';
import { openTestDb, openTestStore } from '../../../support/db';

let db: Db | undefined;
afterEach(() => db?.close());

const MINUTE = 60_000;
const T0 = Date.UTC(2025, 4, 1);
const ROUNDS = 600;

const sock = (proto: 'tcp' | 'udp', port: number, pid: number | null, process: string | null, family: 4 | 6 = 4): SocketEntry => ({
  proto, family, address: family === 4 ? '0.0.0.0' : '::', port, pid, process, exe: process && `/usr/bin/${process}`, user: process && 'root',
});

/**
 * What round i holds: sshd on both families always; a web server whose pid changes at round 100;
 * a socket present in even rounds only; two identical sockets (SO_REUSEPORT) in rounds 50..149,
 * one after; an unowned UDP socket from round 300; round 200 fails.
 */
function socketsAt(i: number): SocketEntry[] | null {
  if (i === 200) return null;
  return [
    sock('tcp', 22, 1, 'sshd'),
    sock('tcp', 22, 1, 'sshd', 6),
    sock('tcp', 8080, i < 100 ? 10 : 11, 'web'),
    ...(i % 2 === 0 ? [sock('udp', 5353, 20, 'avahi')] : []),
    ...(i >= 50 && i < 150 ? [sock('tcp', 9000, 30, 'worker'), sock('tcp', 9000, 30, 'worker')] : [sock('tcp', 9000, 30, 'worker')]),
    ...(i >= 300 ? [sock('udp', 51820, null, null)] : []),
  ];
}

/** The sockets a round held, as sorted text, from the store and from the generator. */
const key = (s: Pick<SocketEntry, 'proto' | 'port' | 'family' | 'address' | 'pid' | 'process'>) => `${s.proto}/${s.port} ${s.family} ${s.address} ${s.pid} ${s.process}`;
const expectedAt = (i: number) => (socketsAt(i) ?? []).map(key).sort();

function record(): { ids: number[]; store: ReturnType<typeof openTestStore>['store']; file: string } {
  const opened = openTestStore();
  db = opened.db;
  const ids: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const at = T0 + i * MINUTE;
    const sockets = socketsAt(i);
    ids.push(opened.store.record({ host: 'h', startedAt: at, endedAt: at + 5, outcome: sockets ? { sockets, connections: [] } : { error: 'scan failed' } }));
  }
  return { ids, store: opened.store, file: opened.file };
}

describe('RoundCompactor, through RoundStore', () => {
  it('keeps the newest hour row by row and older rounds as runs of at most 240 rounds', () => {
    const { ids } = record();
    const newest = ids.at(-1)!;
    const kept = db!.prepare('SELECT DISTINCT round_id FROM rounds_ports ORDER BY round_id').pluck().all();
    expect(kept).toEqual(ids.slice(-KEEP_ROUNDS));
    const runs = db!.prepare<[], { first: number; last: number }>('SELECT first_round_id AS first, last_round_id AS last FROM rounds_ports_runs').all();
    expect(Math.max(...runs.map((r) => r.last))).toBe(newest - KEEP_ROUNDS);
    expect(runs.every((r) => r.last - r.first < MAX_RUN_ROUNDS)).toBe(true);
    // sshd's two sockets over 540 rounds broken by the failed round: a handful of runs, not 1,078 rows.
    const sshd = db!.prepare("SELECT count(*) FROM rounds_ports_runs u JOIN ports p ON p.id = u.port_id WHERE p.port = 22").pluck().get() as number;
    expect(sshd).toBeLessThanOrEqual(8);
    // The alternating socket cannot be compacted: one run per even round moved (round 200 failed).
    const avahi = db!.prepare("SELECT count(*) FROM rounds_ports_runs u JOIN ports p ON p.id = u.port_id WHERE p.port = 5353").pluck().get();
    expect(avahi).toBe((ROUNDS - KEEP_ROUNDS) / 2 - 1);
  });

  it('gives every round exactly the sockets it was recorded with, through round_sockets and socketsOf', () => {
    const { ids, store } = record();
    const viewOf = db!.prepare<[number], { proto: 'tcp' | 'udp'; port: number; family: 4 | 6; address: string; pid: number | null; process: string | null; count: number }>(
      `SELECT p.proto, p.port, s.family, s.address, s.pid, pr.name AS process, s.count
       FROM round_sockets s JOIN ports p ON p.id = s.port_id LEFT JOIN processes pr ON pr.id = s.process_id WHERE s.round_id = ?`,
    );
    ids.forEach((id, i) => {
      const fromView = viewOf.all(id).flatMap((r) => Array.from({ length: r.count }, () => key(r))).sort();
      expect(fromView, `round ${i}`).toEqual(expectedAt(i));
      expect(store.socketsOf(id).map(key).sort(), `round ${i}`).toEqual(expectedAt(i));
    });
  });

  it('goes on from runs written before, and catches up a backlog a few rounds at a time', () => {
    const { ids } = record();
    const compactor = new RoundCompactor(db!);
    // Nothing left to move up to the newest hour.
    expect(compactor.compact(ids.at(-1)!)).toBe(0);
    // Everything, as history looks once it is old: the same sockets, one table.
    expect(compactor.compact(ids.at(-1)!, 0)).toBe(30);
    compactor.compactUpTo(ids.at(-1)!);
    expect(db!.prepare('SELECT count(*) FROM rounds_ports').pluck().get()).toBe(0);
    const sshdV4 = db!
      .prepare("SELECT first_round_id AS a, last_round_id AS b FROM rounds_ports_runs u JOIN ports p ON p.id = u.port_id WHERE p.port = 22 AND u.family = 4 ORDER BY a")
      .all();
    // Broken by the failed round (index 200) and at most 240 rounds long.
    expect(sshdV4).toEqual([
      { a: ids[0], b: ids[199] },
      { a: ids[201], b: ids[440] },
      { a: ids[441], b: ids[599] },
    ]);
  });

  it('lets the daily cleanup remove runs past retention, cutting the one that reaches across', async () => {
    const { ids, store, file } = record();
    const now = T0 + 30 * 86_400_000 + 300 * MINUTE; // retention.roundPortsDays = 30: rounds before index 300 go
    const result = await runCleanup(db!, { retention: defaultSettings(), trigger: 'manual', dbPath: file, log: silentLogger, now: () => now });
    expect(result.removed.roundPorts).toBeGreaterThan(0);
    expect(store.socketsOf(ids[299]!)).toEqual([]);
    expect(store.socketsOf(ids[150]!)).toEqual([]);
    ids.slice(300).forEach((id, k) => expect(store.socketsOf(id).map(key).sort()).toEqual(expectedAt(300 + k)));
    expect(db!.prepare('SELECT min(first_round_id) FROM rounds_ports_runs').pluck().get()).toBe(ids[300]);
  });

  it('moves a round through indexes: the runs ending at the round before, its sockets by (port, round)', () => {
    db = openTestDb().db;
    const plan = (sql: string) => (db!.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ x: 5 }) as { detail: string }[]).map((r) => r.detail).join('; ');
    expect(plan(EXTEND_SQL)).toMatch(/SEARCH u USING INDEX rounds_ports_runs_last \(last_round_id=\?\).*SEARCH rp USING INDEX rounds_ports_port_round \(port_id=\? AND round_id=\?\)/);
    expect(plan(OPEN_SQL)).toMatch(/SEARCH rounds_ports USING INDEX rounds_ports_round \(round_id=\?\).*SEARCH u USING INDEX rounds_ports_runs_last \(last_round_id=\? AND port_id=\?\)/);
    expect(`${plan(EXTEND_SQL)}; ${plan(OPEN_SQL)}`).not.toMatch(/SCAN (rounds_ports|rounds_ports_runs|u|rp)\b|rounds_ports_process/);
  });
});
