import type { Logger } from '../log';
import type { RoundStore } from '../store/rounds';
import type { ConnectionEntry, SocketScanner } from './sockets/types';

export interface CollectDeps {
  scanner: SocketScanner;
  store: RoundStore;
  host: string;
  log: Logger;
  now?: () => number;
}

/** `connected`: the round's connections, kept in memory to name the process behind its traffic. */
export type CollectResult =
  | { roundId: number; status: 'ok'; sockets: number; durationMs: number; connected: ConnectionEntry[] }
  | { roundId: number; status: 'failed'; error: string };

/**
 * One port-occupancy round: scan the kernel's socket tables, then write the round and its
 * sockets in one transaction. A failed scan is recorded as a failed round with its error, and
 * the caller carries on; only a failure to write to the database is thrown.
 */
export async function collectRound(deps: CollectDeps): Promise<CollectResult> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  try {
    const snapshot = await deps.scanner.scan();
    const endedAt = now();
    const roundId = deps.store.record({ host: deps.host, startedAt, endedAt, outcome: snapshot });
    return { roundId, status: 'ok', sockets: snapshot.sockets.length, durationMs: endedAt - startedAt, connected: snapshot.connected };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    // A database error here is not a scan failure: let it reach the scheduler.
    if (err instanceof Error && (err as { code?: string }).code?.startsWith('SQLITE')) throw err;
    const roundId = deps.store.record({ host: deps.host, startedAt, endedAt: now(), outcome: { error } });
    deps.log.warn('port scan failed; round recorded as failed', { roundId, error });
    return { roundId, status: 'failed', error };
  }
}
