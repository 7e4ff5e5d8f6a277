import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/main/engine/store/database';
import { openTestDb } from '../support/db';

let db: Db | undefined;
afterEach(() => db?.close());

const columns = (table: string) => db!.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table);

/** A version-5 database with two normal rounds, one anomalous, one anomalous but approved, a model and an incident. */
function version5(): string {
  const { db: old, file } = openTestDb(5);
  old.exec(`
    INSERT INTO rounds (id, started_at, host, status) VALUES (1, 1000, 'h', 'ok'), (2, 2000, 'h', 'ok'), (3, 3000, 'h', 'ok'), (4, 4000, 'h', 'ok');
    INSERT INTO ports (id, proto, port, first_seen_at, last_seen_at) VALUES (1, 'tcp', 22, 1000, 4000), (2, 'tcp', 4444, 3000, 4000);
    INSERT INTO processes (id, identity, name, exe, user, first_seen_at) VALUES
      (1, '["sshd","/usr/sbin/sshd","root"]', 'sshd', '/usr/sbin/sshd', 'root', 1000),
      (2, '["x","/tmp/x","bob"]', 'x', '/tmp/x', 'bob', 3000);
    INSERT INTO rounds_ports (round_id, port_id, family, address, pid, process_id) VALUES
      (1, 1, 4, '0.0.0.0', 801, 1), (1, 1, 6, '::', 801, 1), (2, 1, 4, '0.0.0.0', 801, 1),
      (3, 1, 4, '0.0.0.0', 801, 1), (3, 2, 4, '0.0.0.0', 3121, 2), (4, 2, 4, '0.0.0.0', 3121, 2);
    INSERT INTO detection_runs (id, trigger, started_at) VALUES (1, 'manual', 5000);
    INSERT INTO round_scores (round_id, run_id, score, threshold, anomalous, model_version) VALUES (1, 1, 1, 5, 0, 1), (2, 1, 1, 5, 0, 1), (3, 1, 14, 5, 1, 1), (4, 1, 14, 5, 1, 1);
    INSERT INTO expected_rounds (round_id, marked_at) VALUES (4, 6000);
    INSERT INTO models (version, created_at, backend, threshold, architecture, history, rounds_trained) VALUES (1, 5000, 'wasm', 5, '{}', '[]', 370);
    INSERT INTO incidents (id, run_id, start_round_id, end_round_id, started_at, ended_at, rounds, peak_score, threshold, sentence) VALUES (1, 1, 3, 4, 3000, 4000, 2, 14, 5, 'Port 4444/tcp started listening');
    INSERT INTO incident_ports (incident_id, rank, proto, port, direction, share, expected, process, exe, pid, first_seen_at) VALUES (1, 0, 'tcp', 4444, 'appeared', 1, 0.000001, 'x', '/tmp/x', 3121, 3000);
  `);
  old.close();
  return file;
}

describe('migration 006: port owners, rounds seen, new-owner explanations', () => {
  it('learns each port\'s owners from the rounds a model may learn from, never from an unapproved anomaly', () => {
    db = openDatabase(version5());
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(6);
    expect(db.prepare('SELECT port_id, process_id, rounds, first_round_id, last_round_id FROM port_owners ORDER BY port_id').all()).toEqual([
      { port_id: 1, process_id: 1, rounds: 2, first_round_id: 1, last_round_id: 2 },
      // Round 4 was approved by the user: its holder is learned; round 3 was not.
      { port_id: 2, process_id: 2, rounds: 1, first_round_id: 4, last_round_id: 4 },
    ]);
  });

  it('keeps the learning progress of existing models as rounds seen', () => {
    db = openDatabase(version5());
    expect(db.prepare('SELECT rounds_trained, rounds_seen FROM models').get()).toEqual({ rounds_trained: 370, rounds_seen: 370 });
  });

  it('keeps every incident port, accepts the new direction and the usual owner, and leaves no broken reference', () => {
    db = openDatabase(version5());
    expect(columns('incident_ports')).toEqual(['incident_id', 'rank', 'proto', 'port', 'direction', 'share', 'expected', 'process', 'exe', 'pid', 'first_seen_at', 'usual_process', 'usual_exe']);
    expect(db.prepare('SELECT port, direction, exe, usual_exe FROM incident_ports').all()).toEqual([{ port: 4444, direction: 'appeared', exe: '/tmp/x', usual_exe: null }]);
    const insert = db.prepare("INSERT INTO incident_ports (incident_id, rank, proto, port, direction, share, expected, process, exe, usual_process, usual_exe) VALUES (1, ?, 'tcp', 22, ?, 0.5, 1, 'python3', '/usr/bin/python3', 'sshd', '/usr/sbin/sshd')");
    insert.run(1, 'new-owner');
    expect(() => insert.run(2, 'stolen')).toThrow(/CHECK/);
    expect(db.prepare('SELECT count(*) FROM pragma_foreign_key_check').pluck().get()).toBe(0);
    // Deleting an incident still takes its ports with it.
    db.prepare('DELETE FROM incidents WHERE id = 1').run();
    expect(db.prepare('SELECT count(*) FROM incident_ports').pluck().get()).toBe(0);
    expect(() => db!.prepare('INSERT INTO port_owners (port_id, process_id, rounds, first_round_id, last_round_id) VALUES (1, 1, 1, 1, 1)').run()).toThrow(/UNIQUE|PRIMARY KEY/);
  });
});
