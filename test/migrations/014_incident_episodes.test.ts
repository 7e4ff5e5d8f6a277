import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/main/engine/store/database';
import { openTestDb } from '../support/db';

let db: Db | undefined;
afterEach(() => db?.close());

describe('migration 014: incident episodes', () => {
  it('gives each existing incident one episode, the first episode of a new one, and extends the latest episode with the incident', () => {
    const { db: old, file } = openTestDb(13);
    old.prepare("INSERT INTO rounds (id, host, started_at, ended_at, status) VALUES (1, 'h', 1000, 1100, 'ok'), (2, 'h', 61000, 61100, 'ok')").run();
    old.prepare("INSERT INTO incidents (id, start_round_id, end_round_id, started_at, ended_at, rounds, peak_score, threshold, sentence) VALUES (7, 1, 2, 1000, 61000, 2, 9, 5, 'old')").run();
    old.close();
    db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBeGreaterThanOrEqual(14);
    const episodes = (id: number) => db!.prepare('SELECT started_at AS s, ended_at AS e FROM incident_episodes WHERE incident_id = ? ORDER BY started_at').all(id);
    expect(episodes(7)).toEqual([{ s: 1000, e: 61000 }]);
    db.prepare("INSERT INTO incidents (id, start_round_id, end_round_id, started_at, ended_at, rounds, peak_score, threshold, sentence) VALUES (8, 2, 2, 61000, 61000, 1, 9, 5, 'new')").run();
    expect(episodes(8)).toEqual([{ s: 61000, e: 61000 }]);
    db.prepare('UPDATE incidents SET ended_at = 121000 WHERE id = 8').run();
    expect(episodes(8)).toEqual([{ s: 61000, e: 121000 }]);
    // A recurrence: its episode first, then the incident extended to it.
    db.prepare('INSERT INTO incident_episodes (incident_id, started_at, ended_at) VALUES (8, 500000, 500000)').run();
    db.prepare('UPDATE incidents SET ended_at = 560000 WHERE id = 8').run();
    expect(episodes(8)).toEqual([{ s: 61000, e: 121000 }, { s: 500000, e: 560000 }]);
    db.prepare('DELETE FROM incidents WHERE id = 8').run();
    expect(episodes(8)).toEqual([]);
  });
});
