import { ClockBehindError } from './collect/collectRound';
import type { Logger } from './log';
import type { RecordingState } from '../../shared/contract';

export type RecordingFault = Exclude<RecordingState['state'], 'recording'>;

/**
 * The faults that stop rounds from being stored without anything being broken: each passes by
 * itself (space is freed, the other program lets go of the lock, the clock catches up), so the
 * monitor skips rounds while it lasts and carries on. Anything else is an error of its own.
 */
export function recordingFaultOf(err: unknown): { fault: RecordingFault; message: string } | null {
  if (err instanceof ClockBehindError) {
    return {
      fault: 'clock-behind',
      message: `${err.message} (it was set back): rounds are skipped until it passes ${new Date(err.newestEnd).toISOString()}, so stored history stays in order`,
    };
  }
  const code = err instanceof Error ? ((err as { code?: unknown }).code ?? '') : '';
  if (typeof code !== 'string') return null;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') {
    return { fault: 'disk-full', message: 'the disk holding the database is full: rounds are skipped until space is freed; everything stored so far is kept' };
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return {
      fault: 'database-locked',
      message: 'another program holds the database locked for writing: rounds are skipped (each waits for the lock first) until it lets go',
    };
  }
  return null;
}

const RECORDING: RecordingState = { state: 'recording', since: null, message: null, roundsSkipped: 0, skippedTotal: 0 };

/**
 * Whether rounds are stored, told once per fault: one warning when rounds start being skipped
 * (or the reason changes), one line when recording resumes, never one per round.
 */
export class RecordingHealth {
  private current: RecordingState = RECORDING;

  constructor(private readonly log: Logger) {}

  get state(): RecordingState {
    return this.current;
  }

  /** A round could not be stored because of `err`; false when `err` is no recording fault. */
  skipped(err: unknown, at: number): boolean {
    const f = recordingFaultOf(err);
    if (!f) return false;
    const skippedTotal = this.current.skippedTotal + 1;
    if (this.current.state === f.fault) {
      this.current = { ...this.current, roundsSkipped: this.current.roundsSkipped + 1, skippedTotal };
      return true;
    }
    this.current = { state: f.fault, since: at, message: f.message, roundsSkipped: 1, skippedTotal };
    this.log.warn(f.message, { fault: f.fault, error: (err as Error).message });
    return true;
  }

  /** A round was stored: ends a fault, if one was in force. */
  recorded(at: number): void {
    const c = this.current;
    if (c.state === 'recording') return;
    this.log.info('rounds are recorded again', { fault: c.state, roundsSkipped: c.roundsSkipped, seconds: c.since === null ? null : Math.max(0, Math.round((at - c.since) / 1000)) });
    this.current = { ...RECORDING, skippedTotal: c.skippedTotal };
  }
}
