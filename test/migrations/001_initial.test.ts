import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/main/engine/store/database';
import { openTestDb } from '../support/db';

let db: Db;
beforeEach(() => {
  db = openTestDb(1).db;
});
afterEach(() => db.close());

const columns = (table: string) => db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table);
const plan = (sql: string, ...params: unknown[]) =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ');

function insertRound(startedAt = 1_700_000_000_000): number {
  return Number(db.prepare("INSERT INTO rounds (started_at, ended_at, duration_ms, host, status) VALUES (?, ?, 3, 'host', 'ok')").run(startedAt, startedAt + 3).lastInsertRowid);
}
function insertPort(proto: string, port: number): number {
  return Number(db.prepare('INSERT INTO ports (proto, port, first_seen_at, last_seen_at) VALUES (?, ?, 1, 1)').run(proto, port).lastInsertRowid);
}

describe('migration 001: the four tables of the product shape', () => {
  it('creates rounds, ports, rounds_ports, packets (and processes) with their columns', () => {
    expect(columns('rounds')).toEqual(['id', 'started_at', 'ended_at', 'duration_ms', 'host', 'status', 'error']);
    expect(columns('ports')).toEqual(['id', 'proto', 'port', 'first_seen_at', 'last_seen_at']);
    expect(columns('rounds_ports')).toEqual(['id', 'round_id', 'port_id', 'family', 'address', 'pid', 'process_id']);
    expect(columns('processes')).toEqual(['id', 'identity', 'name', 'exe', 'user', 'first_seen_at']);
    expect(columns('packets')).toEqual([
      'id', 'round_id', 'ts', 'protocols', 'src_addr', 'src_port', 'dst_addr', 'dst_port', 'length', 'tcp_flags', 'dns_query', 'dns_answer', 'port_id',
    ]);
  });

  it('keeps each (protocol, port) once and rejects impossible values', () => {
    insertPort('tcp', 22);
    insertPort('udp', 22);
    expect(() => insertPort('tcp', 22)).toThrow(/UNIQUE/);
    expect(() => insertPort('sctp', 1)).toThrow(/CHECK/);
    expect(() => insertPort('tcp', 70000)).toThrow(/CHECK/);
    expect(() => db.prepare("INSERT INTO rounds (started_at, host, status) VALUES (1, 'h', 'maybe')").run()).toThrow(/CHECK/);
    expect(() => db.prepare("INSERT INTO rounds (started_at, ended_at, host) VALUES (10, 5, 'h')").run()).toThrow(/CHECK/);
  });

  it('enforces foreign keys and deletes a round\'s sockets and packets with it', () => {
    const round = insertRound();
    const port = insertPort('tcp', 4444);
    db.prepare("INSERT INTO rounds_ports (round_id, port_id, family, address) VALUES (?, ?, 4, '0.0.0.0')").run(round, port);
    db.prepare("INSERT INTO packets (round_id, ts, protocols, length, port_id) VALUES (?, 1, 'eth:ipv4:tcp', 60, ?)").run(round, port);
    expect(() => db.prepare("INSERT INTO rounds_ports (round_id, port_id, family, address) VALUES (999, ?, 4, 'x')").run(port)).toThrow(/FOREIGN KEY/);
    db.prepare('DELETE FROM rounds WHERE id = ?').run(round);
    expect(db.prepare('SELECT count(*) FROM rounds_ports').pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM packets').pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM ports').pluck().get()).toBe(1); // ports outlive rounds
  });

  it('answers the queries later parts rely on from indexes, not table scans', () => {
    expect(plan('SELECT * FROM rounds WHERE started_at BETWEEN ? AND ?', 0, 1)).toMatch(/USING INDEX rounds_started_at/);
    expect(plan('SELECT * FROM rounds_ports WHERE round_id = ?', 1)).toMatch(/USING INDEX rounds_ports_round/);
    expect(plan('SELECT round_id FROM rounds_ports WHERE port_id = ? AND round_id BETWEEN ? AND ?', 1, 0, 9)).toMatch(/rounds_ports_port_round/);
    expect(plan('SELECT id FROM ports WHERE proto = ? AND port = ?', 'tcp', 22)).toMatch(/USING (COVERING )?INDEX sqlite_autoindex_ports/);
    expect(plan('SELECT * FROM packets WHERE round_id = ?', 1)).toMatch(/USING INDEX packets_round/);
    expect(plan('SELECT id FROM packets WHERE ts < ? ORDER BY ts LIMIT 1000', 5)).toMatch(/packets_ts/);
    expect(plan('SELECT id FROM processes WHERE identity = ?', '[]')).toMatch(/sqlite_autoindex_processes/);
  });
});
