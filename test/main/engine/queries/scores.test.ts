import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { listScores, SCORES_SQL } from '../../../../src/main/engine/queries/scores';
import { ScorePointSchema } from '../../../../src/shared/contract';
import { openTestDb } from '../../../support/db';
import { MINUTE, minutes, planOf, seedRounds, seedScores, socket, T0 } from './seed';

let db: Db;
beforeEach(() => {
  db = openTestDb().db;
});
afterEach(() => db.close());

describe('listScores', () => {
  it('returns the scores of the rounds in [from, to), oldest first, in the contract shape', () => {
    const ids = seedRounds(db, minutes(10), () => [socket('tcp', 22, 'sshd')]);
    seedScores(db, ids.slice(0, 8), (i) => (i === 5 ? 0.9 : 0.1));
    const points = listScores(db, { from: T0 + MINUTE, to: T0 + 7 * MINUTE, maxPoints: 100 });
    expect(points.map((p) => p.roundId)).toEqual(ids.slice(1, 7));
    expect(points.every((p) => ScorePointSchema.safeParse(p).success)).toBe(true);
    expect(points.find((p) => p.roundId === ids[5])).toEqual({ roundId: ids[5], at: T0 + 5 * MINUTE, score: 0.9, threshold: 0.5, anomalous: true });
    // Unscored rounds are simply absent.
    expect(listScores(db, { from: T0 + 8 * MINUTE, to: T0 + 10 * MINUTE, maxPoints: 10 })).toEqual([]);
  });

  it('downsamples to maxPoints keeping every anomalous round and the peak of each bucket', () => {
    const ids = seedRounds(db, minutes(1000), () => []);
    // A gentle wave, one small spike that is not anomalous, three anomalous rounds.
    const score = (i: number) => (i === 333 ? 0.45 : [100, 101, 777].includes(i) ? 0.95 : 0.1 + 0.05 * Math.sin(i / 50));
    seedScores(db, ids, score);
    const points = listScores(db, { from: T0, to: T0 + 1000 * MINUTE, maxPoints: 50 });
    expect(points.length).toBeLessThanOrEqual(50);
    expect(points.length).toBeGreaterThan(40);
    expect(points.filter((p) => p.anomalous).map((p) => p.roundId)).toEqual([ids[100], ids[101], ids[777]]);
    expect(points.map((p) => p.roundId)).toContain(ids[333]);
    expect(points.map((p) => p.at)).toEqual([...points.map((p) => p.at)].sort((a, b) => a - b));
  });

  it('keeps at most maxPoints even when more rounds than that are anomalous', () => {
    const ids = seedRounds(db, minutes(100), () => []);
    seedScores(db, ids, (i) => 0.6 + i / 1000);
    const points = listScores(db, { from: T0, to: T0 + 100 * MINUTE, maxPoints: 10 });
    expect(points).toHaveLength(10);
    expect(points.every((p) => p.anomalous)).toBe(true);
    // Each bucket keeps its highest score: here the last round of every ten.
    expect(points.map((p) => p.roundId)).toEqual(ids.filter((_, i) => i % 10 === 9));
  });

  it('reads the time range from rounds_started_at and each score by its key', () => {
    const plan = planOf(db, SCORES_SQL, [1, 2]);
    expect(plan).toMatch(/SEARCH r USING (COVERING )?INDEX rounds_started_at/);
    expect(plan).toMatch(/SEARCH s USING INTEGER PRIMARY KEY/);
    expect(plan).not.toMatch(/SCAN r\b|SCAN s\b/);
  });
});
