import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/main/engine/store/database';
import { openTestDb } from '../support/db';

let db: Db | undefined;
afterEach(() => db?.close());

const columns = (table: string) => db!.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table);

/**
 * A version-7 database: firefox talked to one remote end in rounds 1-2 and again from round 3,
 * sshd accepted a peer in round 2, a socket of no known owner reached the first end in round 1,
 * and a DNS answer was captured.
 */
function version7(): string {
  const { db: old, file } = openTestDb(7);
  old.exec(`
    INSERT INTO rounds (id, started_at, host, status) VALUES (1, 60000, 'h', 'ok'), (2, 120000, 'h', 'ok'), (3, 180000, 'h', 'ok');
    INSERT INTO processes (id, identity, name, exe, user, first_seen_at) VALUES
      (1, '["firefox","/usr/lib/firefox/firefox","ann"]', 'firefox', '/usr/lib/firefox/firefox', 'ann', 60000),
      (2, '["sshd","/usr/sbin/sshd","root"]', 'sshd', '/usr/sbin/sshd', 'root', 60000);
    INSERT INTO remote_endpoints (id, proto, address, port, first_seen_at, last_seen_at) VALUES
      (1, 'tcp', '93.184.216.34', 443, 60000, 180000), (2, 'tcp', '10.0.0.5', 0, 120000, 120000);
    INSERT INTO connection_spans (first_round_id, last_round_id, endpoint_id, direction, local_port, state, pid, process_id, count) VALUES
      (3, 3, 1, 'out', NULL, 'established', 2101, 1, 1),
      (1, 2, 1, 'out', NULL, 'established', 2100, 1, 2),
      (2, 2, 2, 'in', 22, 'established', 801, 2, 1),
      (1, 1, 1, 'out', NULL, 'established', NULL, NULL, 1);
    INSERT INTO packets (round_id, ts, protocols, length, dns_query, dns_answer) VALUES (1, 59000, 'eth:ipv4:udp:dns', 90, 'example.com', '93.184.216.34');
  `);
  old.close();
  return file;
}

describe('migration 008: the first sighting of each remote end per process, DNS response codes', () => {
  it("derives each process's first round with each remote end from the spans already stored", () => {
    db = openDatabase(version7());
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(8);
    expect(columns('endpoint_owners')).toEqual(['process_id', 'endpoint_id', 'first_round_id', 'first_seen_at']);
    expect(db.prepare('SELECT process_id, endpoint_id, first_round_id, first_seen_at FROM endpoint_owners ORDER BY process_id, endpoint_id').all()).toEqual([
      { process_id: 1, endpoint_id: 1, first_round_id: 1, first_seen_at: 60000 },
      { process_id: 2, endpoint_id: 2, first_round_id: 2, first_seen_at: 120000 },
    ]);
    expect(db.prepare('SELECT count(*) FROM pragma_foreign_key_check').pluck().get()).toBe(0);
  });

  it('holds one row per process and remote end, of known processes and remote ends only', () => {
    db = openDatabase(version7());
    const insert = db.prepare('INSERT INTO endpoint_owners (process_id, endpoint_id, first_round_id, first_seen_at) VALUES (?, ?, ?, ?)');
    expect(() => insert.run(1, 1, 3, 180000)).toThrow(/UNIQUE|PRIMARY KEY/);
    expect(() => insert.run(9, 1, 3, 180000)).toThrow(/FOREIGN KEY/);
    expect(() => insert.run(1, 9, 3, 180000)).toThrow(/FOREIGN KEY/);
    // A round may go with retention while its first sighting stays.
    db.prepare('DELETE FROM connection_spans').run();
    db.prepare('DELETE FROM packets').run();
    db.prepare('DELETE FROM rounds WHERE id = 1').run();
    expect(db.prepare('SELECT count(*) FROM endpoint_owners').pluck().get()).toBe(2);
  });

  it('answers "did this process talk to this end before round N" from the primary key', () => {
    db = openDatabase(version7());
    const plan = db
      .prepare('EXPLAIN QUERY PLAN SELECT first_round_id FROM endpoint_owners WHERE process_id = ? AND endpoint_id = ?')
      .all(1, 1)
      .map((r) => (r as { detail: string }).detail)
      .join('\n');
    expect(plan).toMatch(/USING PRIMARY KEY \(process_id=\? AND endpoint_id=\?\)/);
  });

  it('adds a response code to packets, empty for the rows stored before', () => {
    db = openDatabase(version7());
    expect(columns('packets')).toContain('dns_rcode');
    expect(db.prepare('SELECT dns_query, dns_answer, dns_rcode FROM packets').all()).toEqual([{ dns_query: 'example.com', dns_answer: '93.184.216.34', dns_rcode: null }]);
  });
});
