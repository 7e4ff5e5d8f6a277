import type { Db } from './database';

/**
 * Reads of port history that the `round_sockets` view (migration 012) cannot answer in one
 * index range: "the oldest round with sockets" and "the newest round holding a port", asked of
 * rounds_ports (the newest hour) and rounds_ports_runs (the rest) each.
 */

/**
 * The oldest round whose sockets are still stored (the daily cleanup removes older ones), or
 * null when none are. A run is at most MAX_RUN_ROUNDS long, so the oldest run starts among the
 * runs ending within that many ids of the first run's end: one bounded index range.
 */
export function oldestRoundWithSockets(db: Db): number | null {
  return db
    .prepare<[], number | null>(
      `SELECT min(lo) FROM (
         SELECT min(first_round_id) AS lo FROM rounds_ports_runs
         WHERE last_round_id < (SELECT min(last_round_id) FROM rounds_ports_runs) + 240
         UNION ALL SELECT min(round_id) FROM rounds_ports)`,
    )
    .pluck()
    .get() ?? null;
}

/**
 * One socket of the newest round at or before @at that held port @port (a named owner before an
 * unknown one), with its owner: `round_id`, `pid`, `process_id`. A run that covers @at counts as
 * held at @at.
 */
export const LATEST_HOLDER_SQL = `SELECT round_id, pid, process_id FROM (
    SELECT min(last_round_id, @at) AS round_id, pid, process_id FROM rounds_ports_runs WHERE port_id = @port AND first_round_id <= @at
    UNION ALL
    SELECT round_id, pid, process_id FROM rounds_ports WHERE port_id = @port AND round_id <= @at)
  ORDER BY round_id DESC, pid IS NULL LIMIT 1`;
