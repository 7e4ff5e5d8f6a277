import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/main/engine/store/database';
import { openTestDb } from '../support/db';

let db: Db | undefined;
afterEach(() => db?.close());

const columns = (table: string) => db!.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table);

/** A version-8 database with one port incident. */
function version8(): string {
  const { db: old, file } = openTestDb(8);
  old.exec(`
    INSERT INTO rounds (id, started_at, host, status) VALUES (1, 60000, 'h', 'ok'), (2, 120000, 'h', 'ok');
    INSERT INTO incidents (id, start_round_id, end_round_id, started_at, ended_at, rounds, peak_score, threshold, sentence)
      VALUES (1, 1, 2, 60000, 120000, 2, 9, 4, 'Port 4444/tcp started listening: nc, never seen before.');
  `);
  old.close();
  return file;
}

describe('migration 009: the traffic model\'s windows and incidents', () => {
  it('keeps existing incidents as port incidents and adds the traffic tables', () => {
    db = openDatabase(version8());
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(9);
    expect(db.prepare('SELECT id, kind, process_id, traffic_kind FROM incidents').all()).toEqual([{ id: 1, kind: 'ports', process_id: null, traffic_kind: null }]);
    expect(columns('traffic_windows')).toEqual(['id', 'first_round_id', 'last_round_id', 'started_at', 'ended_at', 'process_id', 'run_id', 'model_version', 'score', 'threshold', 'anomalous', 'held_out', 'features']);
    expect(columns('incident_endpoints')).toContain('period_ms');
    expect(columns('incident_features')).toEqual(['incident_id', 'feature', 'share', 'value', 'expected']);
  });

  it('keeps one row per window and process (the host-wide row too), and refuses an unknown incident kind', () => {
    db = openDatabase(version8());
    const insert = db.prepare('INSERT INTO traffic_windows (first_round_id, last_round_id, started_at, ended_at, process_id, score, held_out, features) VALUES (1, 2, 60000, 120000, ?, 1.5, 0, ?)');
    const blob = Buffer.from(new Float32Array([1, 2]).buffer);
    insert.run(null, blob);
    expect(() => insert.run(null, blob)).toThrow(/UNIQUE/);
    expect(() => db!.prepare("UPDATE incidents SET kind = 'flows' WHERE id = 1").run()).toThrow(/CHECK/);
    db.prepare('INSERT INTO incident_endpoints (incident_id, rank, proto, address, port, direction, new_for_process, new_anywhere, opened, bytes_out, bytes_in) VALUES (1, 0, ?, ?, 4444, ?, 1, 1, 3, 100, 20)').run('tcp', '203.0.113.7', 'out');
    db.prepare('DELETE FROM incidents WHERE id = 1').run();
    expect(db.prepare('SELECT count(*) FROM incident_endpoints').pluck().get()).toBe(0);
  });
});
