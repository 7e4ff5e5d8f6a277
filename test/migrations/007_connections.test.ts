import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/main/engine/store/database';
import { openTestDb } from '../support/db';

let db: Db | undefined;
afterEach(() => db?.close());

const columns = (table: string) => db!.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table);

/** A version-6 database with rounds, a listener, connection counts and a finished cleanup. */
function version6(): string {
  const { db: old, file } = openTestDb(6);
  old.exec(`
    INSERT INTO rounds (id, started_at, host, status) VALUES (1, 1000, 'h', 'ok'), (2, 61000, 'h', 'ok');
    INSERT INTO ports (id, proto, port, first_seen_at, last_seen_at) VALUES (1, 'tcp', 22, 1000, 61000);
    INSERT INTO processes (id, identity, name, exe, user, first_seen_at) VALUES (1, '["sshd","/usr/sbin/sshd","root"]', 'sshd', '/usr/sbin/sshd', 'root', 1000);
    INSERT INTO rounds_ports (round_id, port_id, family, address, pid, process_id) VALUES (1, 1, 4, '0.0.0.0', 801, 1), (2, 1, 4, '0.0.0.0', 801, 1);
    INSERT INTO round_connections (round_id, proto, remote_port_class, count) VALUES (1, 'tcp', 'well-known', 3), (2, 'tcp', 'well-known', 2);
    INSERT INTO cleanup_runs (id, trigger, started_at, ended_at, status, removed_round_ports) VALUES (1, 'schedule', 5000, 6000, 'ok', 12);
  `);
  old.close();
  return file;
}

describe('migration 007: connections as spans, remote endpoints', () => {
  it('adds the two tables and keeps every row that was there', () => {
    db = openDatabase(version6());
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(7);
    expect(columns('remote_endpoints')).toEqual(['id', 'proto', 'address', 'port', 'first_seen_at', 'last_seen_at', 'name', 'name_at']);
    expect(columns('connection_spans')).toEqual(['id', 'first_round_id', 'last_round_id', 'endpoint_id', 'direction', 'local_port', 'state', 'pid', 'process_id', 'count']);
    expect(db.prepare('SELECT count(*) FROM rounds_ports').pluck().get()).toBe(2);
    expect(db.prepare('SELECT sum(count) FROM round_connections').pluck().get()).toBe(5);
    expect(db.prepare('SELECT removed_round_ports, removed_connections FROM cleanup_runs').get()).toEqual({ removed_round_ports: 12, removed_connections: 0 });
    expect(db.prepare('SELECT count(*) FROM pragma_foreign_key_check').pluck().get()).toBe(0);
  });

  it('holds one endpoint once, and spans that point at real rounds, endpoints and processes', () => {
    db = openDatabase(version6());
    const endpoint = db.prepare("INSERT INTO remote_endpoints (proto, address, port, first_seen_at, last_seen_at) VALUES ('tcp', '203.0.113.7', 5222, 1000, 61000)");
    endpoint.run();
    expect(() => endpoint.run()).toThrow(/UNIQUE/);
    db.prepare("INSERT INTO connection_spans (first_round_id, last_round_id, endpoint_id, direction, local_port, state, pid, process_id, count) VALUES (1, 2, 1, 'in', 22, 'established', 801, 1, 2)").run();
    expect(() => db!.prepare("INSERT INTO connection_spans (first_round_id, last_round_id, endpoint_id, direction, state, count) VALUES (2, 1, 1, 'out', 'established', 1)").run()).toThrow(/CHECK/);
    // A span of a round that does not exist, or to an unknown endpoint, is refused.
    expect(() => db!.prepare("INSERT INTO connection_spans (first_round_id, last_round_id, endpoint_id, direction, state, count) VALUES (1, 99, 1, 'out', 'established', 1)").run()).toThrow(/FOREIGN KEY/);
    expect(() => db!.prepare("INSERT INTO connection_spans (first_round_id, last_round_id, endpoint_id, direction, state, count) VALUES (1, 2, 7, 'out', 'established', 1)").run()).toThrow(/FOREIGN KEY/);
    expect(db.prepare('SELECT count(*) FROM connection_spans').pluck().get()).toBe(1);
  });

  it("answers a round's connections from the index on last round", () => {
    db = openDatabase(version6());
    const plan = db
      .prepare("EXPLAIN QUERY PLAN SELECT * FROM connection_spans WHERE last_round_id >= ? AND first_round_id <= ?")
      .all(2, 2)
      .map((r) => (r as { detail: string }).detail)
      .join('\n');
    expect(plan).toMatch(/USING INDEX connection_spans_last/);
  });
});
