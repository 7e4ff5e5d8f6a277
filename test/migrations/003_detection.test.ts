import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/main/engine/store/database';
import { openTestDb } from '../support/db';

let db: Db;
beforeEach(() => {
  db = openTestDb(3).db;
});
afterEach(() => db.close());

const columns = (table: string) => db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table);
const plan = (sql: string, ...params: unknown[]) =>
  (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ');
const round = (t = 1) => Number(db.prepare("INSERT INTO rounds (started_at, host, status) VALUES (?, 'h', 'ok')").run(t).lastInsertRowid);
const run = () => Number(db.prepare("INSERT INTO detection_runs (trigger, started_at) VALUES ('manual', 1)").run().lastInsertRowid);

describe('migration 003: detection', () => {
  it('creates runs, scores, models, incidents, incident ports and expected rounds', () => {
    expect(columns('detection_runs')).toEqual(['id', 'trigger', 'started_at', 'ended_at', 'rounds_scored', 'incidents', 'backend', 'model_version', 'status', 'error']);
    expect(columns('round_scores')).toEqual(['round_id', 'run_id', 'score', 'threshold', 'anomalous', 'model_version']);
    expect(columns('models')).toEqual(['version', 'created_at', 'backend', 'threshold', 'architecture', 'history', 'rounds_trained']);
    expect(columns('incidents')).toEqual(['id', 'run_id', 'start_round_id', 'end_round_id', 'started_at', 'ended_at', 'rounds', 'peak_score', 'threshold', 'status', 'sentence']);
    expect(columns('incident_ports')).toEqual(['incident_id', 'rank', 'proto', 'port', 'direction', 'share', 'expected', 'process', 'exe', 'pid', 'first_seen_at']);
    expect(columns('expected_rounds')).toEqual(['round_id', 'marked_at']);
  });

  it('rejects impossible values and keeps one score per round', () => {
    const r = round();
    const id = run();
    expect(() => db.prepare("INSERT INTO detection_runs (trigger, started_at) VALUES ('cron', 1)").run()).toThrow(/CHECK/);
    const score = db.prepare('INSERT INTO round_scores (round_id, run_id, score, threshold, anomalous, model_version) VALUES (?, ?, ?, ?, ?, 1)');
    score.run(r, id, 3.5, 10, 0);
    expect(() => score.run(r, id, 4, 10, 0)).toThrow(/UNIQUE|PRIMARY KEY/);
    expect(() => score.run(999, id, 4, 10, 0)).toThrow(/FOREIGN KEY/);
    const inc = Number(
      db.prepare("INSERT INTO incidents (start_round_id, end_round_id, started_at, ended_at, rounds, peak_score, threshold, sentence) VALUES (?, ?, 1, 1, 1, 9, 5, 's')").run(r, r).lastInsertRowid,
    );
    const port = db.prepare('INSERT INTO incident_ports (incident_id, rank, proto, port, direction, share, expected) VALUES (?, ?, ?, ?, ?, ?, 0.1)');
    port.run(inc, 0, 'tcp', 4444, 'appeared', 0.9);
    expect(() => port.run(inc, 1, 'tcp', 22, 'sideways', 0.1)).toThrow(/CHECK/);
    expect(() => port.run(inc, 1, 'tcp', 22, 'vanished', 1.5)).toThrow(/CHECK/);
    expect(() => db.prepare("UPDATE incidents SET status = 'ignored'").run()).toThrow(/CHECK/);
  });

  it('deletes scores, incidents and marks with their rounds (retention)', () => {
    const r = round();
    const id = run();
    db.prepare('INSERT INTO round_scores (round_id, run_id, score, anomalous, model_version) VALUES (?, ?, 1, 0, 1)').run(r, id);
    db.prepare('INSERT INTO expected_rounds (round_id, marked_at) VALUES (?, 1)').run(r);
    const inc = Number(db.prepare("INSERT INTO incidents (start_round_id, end_round_id, started_at, ended_at, rounds, peak_score, threshold, sentence) VALUES (?, ?, 1, 1, 1, 9, 5, 's')").run(r, r).lastInsertRowid);
    db.prepare("INSERT INTO incident_ports (incident_id, rank, proto, port, direction, share, expected) VALUES (?, 0, 'tcp', 1, 'appeared', 1, 0)").run(inc);
    db.prepare('DELETE FROM rounds WHERE id = ?').run(r);
    for (const t of ['round_scores', 'expected_rounds', 'incidents', 'incident_ports']) expect(db.prepare(`SELECT count(*) FROM ${t}`).pluck().get()).toBe(0);
  });

  it('answers the detector\'s queries from indexes', () => {
    expect(plan('SELECT round_id FROM round_scores WHERE anomalous = 0 AND round_id < ?', 5)).toMatch(/round_scores_anomalous/);
    expect(plan('SELECT 1 FROM round_scores WHERE round_id = ?', 5)).toMatch(/PRIMARY KEY|INTEGER PRIMARY KEY/);
    expect(plan('SELECT * FROM incidents WHERE end_round_id = ?', 5)).toMatch(/incidents_end_round/);
    expect(plan('SELECT * FROM incidents ORDER BY started_at DESC LIMIT 10')).toMatch(/incidents_started_at/);
    expect(plan('SELECT * FROM incident_ports WHERE incident_id = ?', 1)).toMatch(/PRIMARY KEY/);
  });
});
