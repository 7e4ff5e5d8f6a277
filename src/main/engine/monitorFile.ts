import fs from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import { CaptureStateSchema, RecordingStateSchema } from '../../shared/contract';
import { portentLine } from './invocation';

/**
 * A running monitor's claim on its database and its live state, in `<db>.monitor` beside it.
 * Two monitors writing one database would interleave rounds and race each other's detections,
 * so a second one is refused; and `portent status`, run from another shell, reads the live
 * state (paused, capture, detection) from here rather than guessing it from the database.
 */
export const MonitorStateSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  startedAt: z.number().int(),
  roundSeconds: z.number().int().positive(),
  paused: z.boolean(),
  snoozedUntil: z.number().int().nullable(),
  detecting: z.boolean(),
  capture: CaptureStateSchema,
  /** Absent in files written before it was kept. */
  recording: RecordingStateSchema.optional(),
  updatedAt: z.number().int(),
});
export type MonitorState = z.infer<typeof MonitorStateSchema>;

export class MonitorBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MonitorBusyError';
  }
}

export const monitorFileOf = (dbPath: string): string => `${dbPath}.monitor`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The live state of the monitor on `dbPath`, or null when none runs (no file, a file left by a
 * monitor that died, or one from another host sharing the folder).
 */
export function readMonitorState(dbPath: string): MonitorState | null {
  let text: string;
  try {
    text = fs.readFileSync(monitorFileOf(dbPath), 'utf8');
  } catch {
    return null;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const state = MonitorStateSchema.safeParse(parsed);
  if (!state.success) return null;
  if (state.data.host !== os.hostname() || !alive(state.data.pid)) return null;
  return state.data;
}

/**
 * Claims the database for this process. Throws MonitorBusyError naming the other monitor when
 * one is alive; takes over a file left by a monitor that died.
 */
export function claimMonitorFile(dbPath: string, state: MonitorState): void {
  const other = readMonitorState(dbPath);
  if (other && other.pid !== process.pid) {
    throw new MonitorBusyError(
      `another Portent monitor (pid ${other.pid}) is already running on ${dbPath}, since ${new Date(other.startedAt).toISOString()}; stop it first, or use its window or \`${portentLine('status')}\``,
    );
  }
  writeMonitorState(dbPath, state);
}

/** Replaces the file atomically, so a reader never sees half of it. */
export function writeMonitorState(dbPath: string, state: MonitorState): void {
  const file = monitorFileOf(dbPath);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch (err) {
    // A full disk leaves a partial temp file: not left behind to take more space.
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** Removes the claim, if it is still this process's. */
export function releaseMonitorFile(dbPath: string): void {
  const file = monitorFileOf(dbPath);
  try {
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid?: unknown };
    if (state.pid === process.pid) fs.rmSync(file, { force: true });
  } catch {
    // Already gone, or unreadable: nothing of ours to remove.
  }
}
