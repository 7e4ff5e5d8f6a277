import type { Db } from '../store/database';
import type { RecordingGap } from '../../../shared/contract';

/** A step between rounds longer than this many usual steps means the monitor was not recording. */
export const GAP_FACTOR = 2.5;

/** The round length assumed when nothing nearby tells it: the monitor's one-minute rounds. */
const USUAL_STEP_MS = 60_000;

/**
 * What the running monitor can tell about the time the database cannot: whether it is paused
 * or running now, and since when (so the gap before its start was a stop). Null: no monitor runs.
 */
export interface LiveMonitor {
  monitoring: boolean;
  paused: boolean;
  monitoringSince: number | null;
  roundMs: number | null;
}

type Row = [at: number, ok: number, error: string | null];

const ROUNDS_SQL = 'SELECT started_at, status = \'ok\', error FROM rounds WHERE started_at >= ? AND started_at < ? AND status != \'running\' ORDER BY started_at, id';
const OK_BEFORE_SQL = "SELECT started_at FROM rounds WHERE started_at < ? AND status = 'ok' ORDER BY started_at DESC LIMIT 1";
const OK_AFTER_SQL = "SELECT started_at FROM rounds WHERE started_at >= ? AND status = 'ok' ORDER BY started_at LIMIT 1";

/**
 * The usual step at the pair of successful rounds i-1, i: the shorter of the steps either side
 * of it. Local rather than one median for the whole range, so a history recorded at another
 * round length (a service restarted with other options) is judged by its own rhythm.
 */
function stepNear(oks: readonly number[], i: number, fallback: number): number {
  const before = i >= 2 ? oks[i - 1]! - oks[i - 2]! : Infinity;
  const after = i + 1 < oks.length ? oks[i + 1]! - oks[i]! : Infinity;
  const step = Math.min(before, after);
  return Number.isFinite(step) && step > 0 ? step : fallback;
}

function failedDetail(failed: readonly Row[]): string {
  const last = failed.at(-1)!;
  const n = failed.length;
  return `${n} ${n === 1 ? 'round' : 'rounds'} failed${last[2] ? `: ${last[2]}` : ''}`;
}

/**
 * The stretches of [from, to) in which no round succeeded: between two successful rounds
 * further apart than GAP_FACTOR usual steps, or with failed rounds between them; before the
 * oldest round; and after the newest one when it is overdue. A round stands for the step after
 * its start, so a gap begins one step after the last round before it. Reasons come from the
 * failed rounds and from the live monitor; without either the reason is unknown, never guessed.
 */
export function recordingGaps(db: Db, from: number, to: number, live: LiveMonitor | null = null): RecordingGap[] {
  const fallback = live?.roundMs ?? USUAL_STEP_MS;
  const rows = db.prepare<[number, number], Row>(ROUNDS_SQL).raw().all(from, to);
  const before = db.prepare<[number], number>(OK_BEFORE_SQL).pluck().get(from);
  const after = db.prepare<[number], number>(OK_AFTER_SQL).pluck().get(to);

  const oks: number[] = [];
  if (before !== undefined) oks.push(before);
  // Failed rounds grouped by the successful round they follow (index into oks; -1: none yet).
  const failedAfter = new Map<number, Row[]>();
  for (const row of rows) {
    if (row[1] === 1) oks.push(row[0]);
    else {
      const list = failedAfter.get(oks.length - 1) ?? [];
      list.push(row);
      failedAfter.set(oks.length - 1, list);
    }
  }
  if (after !== undefined) oks.push(after);

  const gaps: RecordingGap[] = [];
  const add = (start: number, end: number, reason: RecordingGap['reason'], detail: string | null) => {
    const a = Math.max(from, Math.round(start));
    const b = Math.min(to, Math.round(end));
    if (b > a) gaps.push({ from: a, to: b, reason, detail });
  };
  const stopReason = (start: number, end: number): RecordingGap['reason'] => {
    const since = live?.monitoringSince;
    return since !== null && since !== undefined && since > start && since <= end ? 'stopped' : 'unknown';
  };

  if (oks.length === 0) {
    const failed = failedAfter.get(-1);
    if (failed) add(from, to, 'failed', failedDetail(failed));
    else add(from, to, live && !live.monitoring ? 'stopped' : 'no-history', null);
    return gaps;
  }

  // Before the first successful round: nothing kept, or rounds that failed.
  if (before === undefined) {
    const failed = failedAfter.get(-1);
    if (failed) add(failed[0]![0], oks[0]!, 'failed', failedDetail(failed));
    const start = failed ? failed[0]![0] : oks[0]!;
    if (start > from) add(from, start, 'no-history', null);
  }

  for (let i = 1; i < oks.length; i++) {
    const a = oks[i - 1]!;
    const b = oks[i]!;
    const step = stepNear(oks, i, fallback);
    const failed = failedAfter.get(i - 1);
    if (failed) add(Math.min(a + step, failed[0]![0]), b, 'failed', failedDetail(failed));
    else if (b - a > GAP_FACTOR * step) add(a + step, b, stopReason(a, b), null);
  }

  // After the newest successful round, when the next one is overdue (or failed).
  if (after === undefined) {
    const last = oks.at(-1)!;
    const step = oks.length >= 2 ? Math.min(oks.at(-1)! - oks.at(-2)!, fallback) : fallback;
    const failed = failedAfter.get(oks.length - 1);
    if (failed) add(Math.min(last + step, failed[0]![0]), to, 'failed', failedDetail(failed));
    else if (to - last > GAP_FACTOR * step) {
      const reason = live?.paused ? 'paused' : live && !live.monitoring ? 'stopped' : stopReason(last, to);
      add(last + step, to, reason, null);
    }
  }
  return gaps;
}
