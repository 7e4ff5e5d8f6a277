import type { Db } from './database';

/**
 * Moves rounds older than the newest hour from rounds_ports (a row per socket per round) into
 * rounds_ports_runs (a row per run of rounds with the same socket), so port history grows with
 * changes rather than minutes (migration 012). Readers see no difference through the
 * `round_sockets` view.
 */

/** Rounds kept row by row, newest first: what the capture and the first scoring read. */
export const KEEP_ROUNDS = 60;
/** The longest run (migration 012's CHECK): a round's runs end within this many ids after it. */
export const MAX_RUN_ROUNDS = 240;
/** Rounds moved per call: a backlog (a first start after a long pause) clears over a few rounds. */
const ROUNDS_PER_CALL = 30;

const SAME_SOCKET = (a: string, b: string) =>
  `${a}.port_id = ${b}.port_id AND ${a}.family = ${b}.family AND ${a}.address = ${b}.address AND ${a}.pid IS ${b}.pid AND ${a}.process_id IS ${b}.process_id`;

/**
 * A run that ended at the round before goes on when round @x has the same sockets, as many. The
 * unary + keeps the planner off rounds_ports_process (every row of the owner's), so it takes
 * (port_id, round_id); no index is named, so a bulk writer may drop and rebuild them.
 */
export const EXTEND_SQL = `UPDATE rounds_ports_runs AS u SET last_round_id = @x
  WHERE u.last_round_id = @x - 1 AND u.first_round_id > @x - ${MAX_RUN_ROUNDS}
    AND u.count = (SELECT count(*) FROM rounds_ports rp
                   WHERE rp.port_id = u.port_id AND rp.round_id = @x AND rp.family = u.family AND rp.address = u.address
                     AND +rp.pid IS u.pid AND +rp.process_id IS u.process_id)`;

/** Round @x's sockets that no run went on with start runs of their own. */
export const OPEN_SQL = `INSERT INTO rounds_ports_runs (first_round_id, last_round_id, port_id, family, address, pid, process_id, count)
  SELECT @x, @x, g.port_id, g.family, g.address, g.pid, g.process_id, g.n
  FROM (SELECT port_id, family, address, pid, process_id, count(*) AS n FROM rounds_ports WHERE round_id = @x
        GROUP BY port_id, family, address, pid, process_id) g
  WHERE NOT EXISTS (SELECT 1 FROM rounds_ports_runs u WHERE u.last_round_id = @x AND ${SAME_SOCKET('u', 'g')})`;

export class RoundCompactor {
  private readonly pending;
  private readonly extend;
  private readonly open;
  private readonly remove;
  private readonly compactOne;

  constructor(db: Db) {
    this.pending = db.prepare<[number, number], number>('SELECT DISTINCT round_id FROM rounds_ports WHERE round_id <= ? ORDER BY round_id LIMIT ?').pluck();
    this.extend = db.prepare<{ x: number }>(EXTEND_SQL);
    this.open = db.prepare<{ x: number }>(OPEN_SQL);
    this.remove = db.prepare<{ x: number }>('DELETE FROM rounds_ports WHERE round_id = @x');
    this.compactOne = db.transaction((x: number) => {
      this.extend.run({ x });
      this.open.run({ x });
      this.remove.run({ x });
    });
  }

  /**
   * Moves the oldest rounds that still have rows, up to round `newestRoundId - KEEP_ROUNDS`, at
   * most ROUNDS_PER_CALL of them, oldest first (a run can only go on from the round before).
   * Returns how many rounds were moved.
   */
  compact(newestRoundId: number, keepRounds = KEEP_ROUNDS, maxRounds = ROUNDS_PER_CALL): number {
    const rounds = this.pending.all(newestRoundId - keepRounds, maxRounds);
    for (const x of rounds) this.compactOne(x);
    return rounds.length;
  }

  /** Moves every round up to `upToRoundId` (tests and benchmarks: history as it is once old). */
  compactUpTo(upToRoundId: number): number {
    let moved = 0;
    for (let n; (n = this.compact(upToRoundId, 0, 1000)) > 0; ) moved += n;
    return moved;
  }
}
