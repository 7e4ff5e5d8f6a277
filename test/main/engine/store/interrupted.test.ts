import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { markInterruptedRuns, STALE_RUN_MS } from '../../../../src/main/engine/store/interrupted';
import { openTestDb } from '../../../support/db';

let db: Db;
beforeEach(() => {
  db = openTestDb().db;
});
afterEach(() => db.close());

describe('markInterruptedRuns', () => {
  it('fails runs a dead process left running, and leaves recent and finished ones alone', () => {
    const now = 10 * STALE_RUN_MS;
    const detection = db.prepare("INSERT INTO detection_runs (trigger, started_at, status) VALUES ('schedule', ?, ?)");
    const cleanup = db.prepare("INSERT INTO cleanup_runs (trigger, started_at, status) VALUES ('schedule', ?, ?)");
    detection.run(now - 2 * STALE_RUN_MS, 'running');
    detection.run(now - 60_000, 'running');
    detection.run(now - 2 * STALE_RUN_MS, 'ok');
    cleanup.run(now - 3 * STALE_RUN_MS, 'running');
    expect(markInterruptedRuns(db, now)).toBe(2);
    expect(db.prepare('SELECT status, error IS NOT NULL AS err, ended_at FROM detection_runs ORDER BY id').all()).toEqual([
      { status: 'failed', err: 1, ended_at: now },
      { status: 'running', err: 0, ended_at: null },
      { status: 'ok', err: 0, ended_at: null },
    ]);
    expect(db.prepare('SELECT status, error FROM cleanup_runs').get()).toEqual({ status: 'failed', error: 'interrupted: Portent stopped before this run finished' });
  });
});
