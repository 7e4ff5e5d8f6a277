import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/main/engine/store/database';
import { RoundStore } from '../../src/main/engine/store/rounds';
import { openTestDb } from '../support/db';

let db: Db | undefined;
afterEach(() => db?.close());

const ROUNDS = 400;
const MINUTE = 60_000;

/**
 * A version-11 database of 400 rounds (ids 1..400) as the collector wrote them, a row per socket
 * per round: sshd on 22 in every round on both families, 8080 by one pid then another from round
 * 100, 5353 in even rounds only, two identical sockets on 9000 in rounds 50..149, and round 200
 * failed. Returns the file and every (round, socket) row it holds, as text.
 */
function version11(): { file: string; rows: string[] } {
  const { db: old, file } = openTestDb(11);
  old.exec(`
    INSERT INTO ports (id, proto, port, first_seen_at, last_seen_at) VALUES (1, 'tcp', 22, 0, 0), (2, 'tcp', 8080, 0, 0), (3, 'udp', 5353, 0, 0), (4, 'tcp', 9000, 0, 0);
    INSERT INTO processes (id, identity, name, first_seen_at) VALUES (1, '["sshd",null,null]', 'sshd', 0), (2, '["web",null,null]', 'web', 0);
  `);
  const round = old.prepare("INSERT INTO rounds (id, started_at, ended_at, host, status) VALUES (?, ?, ?, 'h', ?)");
  const sock = old.prepare('INSERT INTO rounds_ports (round_id, port_id, family, address, pid, process_id) VALUES (?, ?, ?, ?, ?, ?)');
  old.transaction(() => {
    for (let id = 1; id <= ROUNDS; id++) {
      round.run(id, id * MINUTE, id * MINUTE + 5, id === 200 ? 'failed' : 'ok');
      if (id === 200) continue;
      sock.run(id, 1, 4, '0.0.0.0', 1, 1);
      sock.run(id, 1, 6, '::', 1, 1);
      sock.run(id, 2, 4, '0.0.0.0', id < 100 ? 10 : 11, 2);
      if (id % 2 === 0) sock.run(id, 3, 4, '0.0.0.0', null, null);
      sock.run(id, 4, 4, '127.0.0.1', 30, null);
      if (id >= 50 && id < 150) sock.run(id, 4, 4, '127.0.0.1', 30, null);
    }
  })();
  const rows = old.prepare<[], string>("SELECT round_id || ' ' || port_id || ' ' || family || ' ' || address || ' ' || coalesce(pid, '-') || ' ' || coalesce(process_id, '-') FROM rounds_ports").pluck().all();
  old.close();
  return { file, rows: rows.sort() };
}

const viewRows = (d: Db) =>
  d
    .prepare<[], { row: string; count: number }>(
      "SELECT round_id || ' ' || port_id || ' ' || family || ' ' || address || ' ' || coalesce(pid, '-') || ' ' || coalesce(process_id, '-') AS row, count FROM round_sockets",
    )
    .all()
    .flatMap((r) => Array.from({ length: r.count }, () => r.row))
    .sort();

describe('migration 012: port history older than an hour kept as runs', () => {
  it('moves every round but the newest hour into runs, and round_sockets gives back every row', () => {
    const { file, rows } = version11();
    db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(12);
    expect(db.prepare('SELECT min(round_id), max(round_id) FROM rounds_ports').raw().get()).toEqual([ROUNDS - 59, ROUNDS]);
    expect(viewRows(db)).toEqual(rows);
    expect(rows.length).toBe(1_895);
    // sshd's IPv4 socket: broken by the failed round, cut at 240 rounds, the newest hour left out.
    expect(
      db.prepare("SELECT first_round_id, last_round_id FROM rounds_ports_runs WHERE port_id = 1 AND family = 4 ORDER BY first_round_id").raw().all(),
    ).toEqual([
      [1, 199],
      [201, 340],
    ]);
    // The web server's owner change and the identical pair each start a run of their own.
    expect(db.prepare('SELECT first_round_id, last_round_id, pid FROM rounds_ports_runs WHERE port_id = 2 ORDER BY first_round_id').raw().all()).toEqual([
      [1, 99, 10],
      [100, 199, 11],
      [201, 340, 11],
    ]);
    expect(db.prepare('SELECT first_round_id, last_round_id, count FROM rounds_ports_runs WHERE port_id = 4 ORDER BY first_round_id').raw().all()).toEqual([
      [1, 49, 1],
      [50, 149, 2],
      [150, 199, 1],
      [201, 340, 1],
    ]);
    // 5353 in the even rounds up to 340 but the failed 200: a run each.
    expect(db.prepare('SELECT count(*) FROM rounds_ports_runs').pluck().get()).toBe(2 + 2 + 3 + 4 + 169);
  });

  it('leaves a database whose next rounds go on from the runs it wrote', () => {
    const { file } = version11();
    db = openDatabase(file);
    const store = new RoundStore(db);
    store.record({
      host: 'h', startedAt: (ROUNDS + 1) * MINUTE, endedAt: (ROUNDS + 1) * MINUTE + 5,
      outcome: { sockets: [{ proto: 'tcp', family: 4, address: '0.0.0.0', port: 22, pid: 1, process: 'sshd', exe: null, user: null }], connections: [] },
    });
    // Round 341 moved: sshd's run goes on from the migration's, which ended at 340.
    expect(db.prepare('SELECT first_round_id, last_round_id FROM rounds_ports_runs WHERE port_id = 1 AND family = 4 ORDER BY first_round_id').raw().all()).toEqual([
      [1, 199],
      [201, 341],
    ]);
  });

  it('refuses a run longer than 240 rounds or ending before it starts', () => {
    db = openDatabase(version11().file);
    const add = db.prepare("INSERT INTO rounds_ports_runs (first_round_id, last_round_id, port_id, family, address) VALUES (?, ?, 1, 4, '0.0.0.0')");
    add.run(1, 240);
    expect(() => add.run(1, 241)).toThrow(/CHECK/);
    expect(() => add.run(5, 4)).toThrow(/CHECK/);
  });

  it('converts an empty database', () => {
    const { db: old, file } = openTestDb(11);
    old.close();
    db = openDatabase(file);
    expect(db.prepare('SELECT count(*) FROM round_sockets').pluck().get()).toBe(0);
  });
});
