import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/main/engine/store/database';
import { openTestDb } from '../support/db';

let db: Db;
beforeEach(() => {
  db = openTestDb(4).db;
});
afterEach(() => db.close());

const flowSql = `INSERT INTO flows (round_id, proto, local_addr, local_port, remote_addr, remote_port, direction, packets, bytes, first_ts, last_ts, tcp_flags, port_id, process_id)
  VALUES (@round, 'tcp', '127.0.0.1', @port, '127.0.0.1', 40000, @direction, @packets, 120, @first, @last, 18, @portId, @processId)`;

function round(): number {
  return Number(db.prepare("INSERT INTO rounds (started_at, host, status) VALUES (1, 'h', 'ok')").run().lastInsertRowid);
}

describe('migration 004: capture', () => {
  it('keeps flows with their round, port and process, and rejects impossible ones', () => {
    const r = round();
    const portId = Number(db.prepare("INSERT INTO ports (proto, port, first_seen_at, last_seen_at) VALUES ('tcp', 8080, 1, 1)").run().lastInsertRowid);
    const processId = Number(db.prepare("INSERT INTO processes (identity, name, first_seen_at) VALUES ('[\"x\",null,null]', 'x', 1)").run().lastInsertRowid);
    const insert = db.prepare(flowSql);
    const ok = { round: r, port: 8080, direction: 'inbound', packets: 3, first: 10, last: 20, portId, processId };
    insert.run(ok);
    expect(() => insert.run({ ...ok, direction: 'sideways' })).toThrow(/CHECK/);
    expect(() => insert.run({ ...ok, packets: 0 })).toThrow(/CHECK/);
    expect(() => insert.run({ ...ok, first: 30 })).toThrow(/CHECK/);
    expect(() => insert.run({ ...ok, port: 70000 })).toThrow(/CHECK/);
    expect(() => insert.run({ ...ok, portId: 999 })).toThrow(/FOREIGN KEY/);
    expect(() => insert.run({ ...ok, round: 999 })).toThrow(/FOREIGN KEY/);
    insert.run({ ...ok, portId: null, processId: null });
    db.prepare('DELETE FROM rounds WHERE id = ?').run(r);
    expect(db.prepare('SELECT count(*) FROM flows').pluck().get()).toBe(0);
  });

  it('answers the three flow questions from indexes', () => {
    const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((p) => p.detail).join('; ');
    expect(plan('SELECT * FROM flows WHERE round_id = 1')).toMatch(/USING INDEX flows_round/);
    expect(plan('SELECT * FROM flows WHERE port_id = 1 AND first_ts BETWEEN 0 AND 100')).toMatch(/USING INDEX flows_port_ts/);
    expect(plan('SELECT id FROM flows WHERE first_ts < 100')).toMatch(/USING (COVERING )?INDEX flows_first_ts/);
  });

  it('records capture state per round, with NULL kernel drops and a kept count within what was seen', () => {
    const r = round();
    const insert = db.prepare('INSERT INTO round_capture (round_id, iface, state, message, packets_seen, packets_kept, malformed, kernel_drops) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    expect(() => insert.run(r, 'eth0', 'paused', null, 0, 0, 0, null)).toThrow(/CHECK/);
    expect(() => insert.run(r, 'eth0', 'on', null, 5, 6, 0, null)).toThrow(/CHECK/);
    insert.run(r, 'eth0', 'on', null, 10, 4, 1, null);
    expect(() => insert.run(r, 'eth0', 'on', null, 10, 4, 1, null)).toThrow(/UNIQUE|PRIMARY KEY/);
    expect(db.prepare('SELECT kernel_drops, dns_overflow FROM round_capture').get()).toEqual({ kernel_drops: null, dns_overflow: 0 });
    db.prepare('DELETE FROM rounds WHERE id = ?').run(r);
    expect(db.prepare('SELECT count(*) FROM round_capture').pluck().get()).toBe(0);
  });

  it('gives packets a process link beside the port', () => {
    const r = round();
    db.prepare("INSERT INTO packets (round_id, ts, protocols, length, process_id) VALUES (?, 1, 'eth:ipv4:udp', 60, NULL)").run(r);
    expect(() => db.prepare("INSERT INTO packets (round_id, ts, protocols, length, process_id) VALUES (?, 1, 'eth:ipv4:udp', 60, 999)").run(r)).toThrow(/FOREIGN KEY/);
  });
});
