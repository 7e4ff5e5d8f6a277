import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/main/engine/store/database';
import { openTestDb } from '../support/db';

let db: Db | undefined;
afterEach(() => db?.close());

const columns = (table: string) => db!.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table);

/** A version-10 database with one port incident. */
function version10(): string {
  const { db: old, file } = openTestDb(10);
  old.exec(`
    INSERT INTO rounds (id, started_at, host, status) VALUES (1, 60000, 'h', 'ok'), (2, 120000, 'h', 'ok');
    INSERT INTO incidents (id, start_round_id, end_round_id, started_at, ended_at, rounds, peak_score, threshold, sentence)
      VALUES (1, 1, 2, 60000, 120000, 2, 9, 4, 'Port 4444/tcp started listening: nc, never seen before.');
  `);
  old.close();
  return file;
}

describe("migration 011: an incident's processes, what was done about it, and allow rules", () => {
  it('keeps existing incidents and adds the three tables, empty', () => {
    db = openDatabase(version10());
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(11);
    expect(db.prepare('SELECT id, sentence FROM incidents').all()).toEqual([{ id: 1, sentence: 'Port 4444/tcp started listening: nc, never seen before.' }]);
    expect(columns('incident_processes')).toEqual(['incident_id', 'pid', 'start_ticks', 'exe', 'name', 'uid', 'recorded_at']);
    expect(columns('incident_actions')).toEqual(['id', 'incident_id', 'at', 'action', 'pid', 'outcome', 'detail']);
    expect(columns('allow_rules')).toEqual(['id', 'proto', 'port', 'process', 'exe', 'user', 'created_at', 'from_incident_id']);
    for (const t of ['incident_processes', 'incident_actions', 'allow_rules']) expect(db.prepare(`SELECT count(*) FROM ${t}`).pluck().get()).toBe(0);
  });

  it('refuses a rule that names nothing, a port without its protocol, a user alone, and the same rule twice', () => {
    db = openDatabase(version10());
    const add = db.prepare('INSERT INTO allow_rules (proto, port, process, exe, user, created_at) VALUES (?, ?, ?, ?, ?, 1)');
    add.run('tcp', 4444, null, null, null);
    add.run(null, null, null, '/usr/bin/nc', 'alice');
    expect(() => add.run(null, null, null, null, null)).toThrow(/CHECK/);
    expect(() => add.run(null, 4444, null, null, null)).toThrow(/CHECK/);
    expect(() => add.run(null, null, null, null, 'alice')).toThrow(/CHECK/);
    expect(() => add.run('tcp', 4444, null, null, null)).toThrow(/UNIQUE/);
    expect(() => add.run('sctp', 9, null, null, null)).toThrow(/CHECK/);
  });

  it("removes an incident's processes and actions with it, and keeps a rule made from it", () => {
    db = openDatabase(version10());
    db.prepare('INSERT INTO incident_processes (incident_id, pid, start_ticks, exe, name, uid, recorded_at) VALUES (1, 4242, 123456, ?, ?, 1000, 5)').run('/usr/bin/nc', 'nc');
    expect(() => db!.prepare('INSERT INTO incident_processes (incident_id, pid, recorded_at) VALUES (1, 4242, 6)').run()).toThrow(/UNIQUE|PRIMARY/);
    db.prepare("INSERT INTO incident_actions (incident_id, at, action, pid, outcome, detail) VALUES (1, 7, 'stop', 4242, 'sigterm', 'ended on SIGTERM')").run();
    expect(() => db!.prepare("INSERT INTO incident_actions (incident_id, at, action, pid, outcome, detail) VALUES (1, 7, 'stop', 4242, 'maybe', '')").run()).toThrow(/CHECK/);
    db.prepare('INSERT INTO allow_rules (proto, port, created_at, from_incident_id) VALUES (?, 4444, 8, 1)').run('tcp');
    db.prepare('DELETE FROM incidents WHERE id = 1').run();
    expect(db.prepare('SELECT count(*) FROM incident_processes').pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM incident_actions').pluck().get()).toBe(0);
    expect(db.prepare('SELECT port, from_incident_id AS fromIncident FROM allow_rules').all()).toEqual([{ port: 4444, fromIncident: null }]);
  });
});
