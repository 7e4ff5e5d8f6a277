import { performance } from 'node:perf_hooks';
import type { Logger } from '../log';
import type { RoundStore } from '../store/rounds';
import type { ConnectionEntry, SocketScanner } from './sockets/types';

export interface CollectDeps {
  scanner: SocketScanner;
  store: RoundStore;
  host: string;
  log: Logger;
  /** The wall clock a round's start is read from (epoch ms); its length comes from the monotonic clock. */
  now?: () => number;
}

/** `connected`: the round's connections, kept in memory to name the process behind its traffic. */
export type CollectResult =
  | { roundId: number; status: 'ok'; sockets: number; durationMs: number; connected: ConnectionEntry[] }
  | { roundId: number; status: 'failed'; error: string };

/**
 * The wall clock reads a time at or before the end of the newest stored round: it was stepped
 * back (an NTP correction, a clock set by hand, a machine booting with a wrong clock). A round
 * stored now would overlap or precede rounds already stored, so none is taken until the clock
 * passes the newest one again.
 */
export class ClockBehindError extends Error {
  constructor(
    readonly behindMs: number,
    readonly newestEnd: number,
  ) {
    super(`the system clock is ${Math.ceil(behindMs / 1000)} s behind the newest stored round`);
    this.name = 'ClockBehindError';
  }
}

/**
 * One port-occupancy round: scan the kernel's socket tables, then write the round and its
 * sockets in one transaction. A failed scan is recorded as a failed round with its error, and
 * the caller carries on; a failure to write to the database is thrown, and so is a clock behind
 * the newest stored round (ClockBehindError), checked before anything is scanned.
 *
 * The start is the wall clock's time; the end is the start plus the scan's length on the
 * monotonic clock, so a clock stepped while a scan runs never makes a round end before it began.
 */
export async function collectRound(deps: CollectDeps): Promise<CollectResult> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const newest = deps.store.newestRound();
  // Starting as the newest round ended is no overlap; starting when it started is a duplicate.
  if (newest !== null && (startedAt < newest.endedAt || startedAt <= newest.startedAt)) {
    throw new ClockBehindError(Math.max(newest.endedAt - startedAt, 1), newest.endedAt);
  }
  const t0 = performance.now();
  // Whole milliseconds, rounded down: a round never ends after the wall clock's "now".
  const endedAt = (): number => startedAt + Math.max(0, Math.floor(performance.now() - t0));
  try {
    const snapshot = await deps.scanner.scan();
    const end = endedAt();
    const roundId = deps.store.record({ host: deps.host, startedAt, endedAt: end, outcome: snapshot });
    return { roundId, status: 'ok', sockets: snapshot.sockets.length, durationMs: end - startedAt, connected: snapshot.connected };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    // A database error here is not a scan failure: let it reach the scheduler.
    if (err instanceof Error && (err as { code?: string }).code?.startsWith('SQLITE')) throw err;
    const roundId = deps.store.record({ host: deps.host, startedAt, endedAt: endedAt(), outcome: { error } });
    deps.log.warn('port scan failed; round recorded as failed', { roundId, error });
    return { roundId, status: 'failed', error };
  }
}
