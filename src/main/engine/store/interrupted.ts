import type { Db } from './database';

/** A job still marked running this long after its start cannot still be running. */
export const STALE_RUN_MS = 3_600_000;

/**
 * Marks detection and cleanup runs left 'running' by a process that died (SIGKILL, power loss)
 * as failed, so status and the window do not show them running forever. Only runs older than
 * an hour: a `portent detect` or `cleanup` in another shell may be running right now.
 */
export function markInterruptedRuns(db: Db, now: number): number {
  const message = 'interrupted: Portent stopped before this run finished';
  let changed = 0;
  for (const table of ['detection_runs', 'cleanup_runs']) {
    changed += db
      .prepare(`UPDATE ${table} SET status = 'failed', error = ?, ended_at = max(started_at, ?) WHERE status = 'running' AND started_at < ?`)
      .run(message, now, now - STALE_RUN_MS).changes;
  }
  return changed;
}

/**
 * Ends one detection run whose worker died before it could (killed, crashed, out of memory):
 * failed with `error`, or cancelled when the monitor was stopping and cut it short. Only a run
 * still marked running is touched; its scores and the saved model are as the worker left them
 * (each saved in one step), so the model in use stays the one from before the run.
 */
export function markDeadRun(db: Db, runId: number, now: number, status: 'failed' | 'cancelled', error: string): boolean {
  return (
    db
      .prepare(`UPDATE detection_runs SET status = ?, error = ?, ended_at = max(started_at, ?) WHERE id = ? AND status = 'running'`)
      .run(status, error, now, runId).changes > 0
  );
}
