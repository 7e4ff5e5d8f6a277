import type { Logger } from '../log';
import type { Trigger } from '../schedule/job';
import { databaseFileBytes, type Db } from '../store/database';
import { retentionCutoffs, sizeCapBytes, type RetentionCutoffs, type RetentionSettings } from './retention';
import { removeOldReportFiles } from '../report/reportFiles';

/**
 * The daily cleanup: per-round detail past its retention goes, then the oldest detail while the
 * database is over its size cap, then the freed pages go back to the file system. It shares its
 * connection with the once-a-minute collector, so it works in short batches and hands the event
 * loop back between them; no transaction stays open across a yield.
 */

/** Rows per delete: a few milliseconds of work on a laptop, about 1 MB of packet rows. */
export const DEFAULT_BATCH_SIZE = 5000;
/** Free pages handed back per incremental vacuum step (8 MB at the default 4 KiB page). */
const VACUUM_PAGES_PER_STEP = 2048;

export interface CleanupOptions {
  /** The retention settings; a whole `Settings` object fits. */
  retention: RetentionSettings;
  trigger: Trigger;
  /** The database file, to measure it and its `-wal` on disk. */
  dbPath: string;
  log: Logger;
  now?: () => number;
  batchSize?: number;
  /** Asked before every batch; true ends the run as cancelled, keeping what was already removed. */
  shouldStop?: () => boolean;
}

export interface Removed {
  roundPorts: number;
  /** Connection spans (a process's sockets to one remote end over consecutive rounds). */
  connections: number;
  packets: number;
  flows: number;
  /** The traffic model's scored windows (kept with the flows they were read from). */
  trafficWindows: number;
  /** How many of the rows above went because of the size cap rather than their age. */
  forCap: number;
}

export interface CleanupResult {
  runId: number;
  status: 'ok' | 'cancelled';
  startedAt: number;
  endedAt: number;
  removed: Removed;
  /** Daily report files (HTML and JSON, in the reports folder) past `retention.reportsDays`. */
  reportFiles: number;
  /** The database file plus its write-ahead log on disk, before and after. */
  bytesBefore: number;
  bytesAfter: number;
}

export interface CleanupRun {
  id: number;
  trigger: Trigger;
  startedAt: number;
  endedAt: number | null;
  status: 'running' | 'ok' | 'failed' | 'cancelled';
  error: string | null;
  removed: Removed;
  reportFiles: number;
  bytesBefore: number | null;
  bytesAfter: number | null;
}

type Table = 'roundPorts' | 'portRuns' | 'connections' | 'packets' | 'flows' | 'trafficWindows';
/** What a table's rows are counted as: runs of rounds are port history, as round sockets are. */
const COUNTED_AS: Record<Table, Exclude<keyof Removed, 'forCap'>> = {
  roundPorts: 'roundPorts', portRuns: 'roundPorts', connections: 'connections', packets: 'packets', flows: 'flows', trafficWindows: 'trafficWindows',
};

/**
 * The ids of the oldest rows of each table older than @before, through the index on their time.
 * Rounds stay (scores and incidents point at them): only their sockets go, found through
 * rounds_started_at from the oldest round that still has any, so a batch does not walk every
 * round already emptied. That start assumes round ids follow time, as the collector writes them;
 * a round written after the clock was set back is still removed by the size cap.
 */
const OLDEST: Record<Table, string> = {
  packets: 'SELECT id FROM packets WHERE ts < @before ORDER BY ts LIMIT @limit',
  flows: 'SELECT id FROM flows WHERE first_ts < @before ORDER BY first_ts LIMIT @limit',
  trafficWindows: 'SELECT id FROM traffic_windows WHERE started_at < @before ORDER BY started_at LIMIT @limit',
  roundPorts: `SELECT rp.id FROM rounds r JOIN rounds_ports rp ON rp.round_id = r.id
    WHERE r.started_at >= (SELECT started_at FROM rounds WHERE id = (SELECT MIN(round_id) FROM rounds_ports))
      AND r.started_at < @before
    ORDER BY r.started_at LIMIT @limit`,
  // Runs of port history (migration 012) that ended before the cutoff round; one reaching past
  // it is cut at it afterwards (trimRuns), so no round keeps only some of its sockets.
  portRuns: `SELECT id FROM rounds_ports_runs
    WHERE last_round_id < coalesce((SELECT min(id) FROM rounds WHERE started_at >= @before), (SELECT max(id) + 1 FROM rounds))
    ORDER BY last_round_id LIMIT @limit`,
  // Spans whose last round started before the cutoff (a span reaching past it stays whole).
  connections: `SELECT id FROM connection_spans
    WHERE last_round_id < coalesce((SELECT min(id) FROM rounds WHERE started_at >= @before), (SELECT max(id) + 1 FROM rounds))
    ORDER BY last_round_id LIMIT @limit`,
};
const TABLE_NAME: Record<Table, string> = { packets: 'packets', flows: 'flows', roundPorts: 'rounds_ports', portRuns: 'rounds_ports_runs', connections: 'connection_spans', trafficWindows: 'traffic_windows' };
const COUNT_COLUMN: Record<Table, string> = {
  packets: 'removed_packets', flows: 'removed_flows', roundPorts: 'removed_round_ports', portRuns: 'removed_round_ports', connections: 'removed_connections', trafficWindows: 'removed_traffic_windows',
};

/** The order the size cap takes rows in: bulkiest and least useful first. */
const CAP_ORDER: readonly Table[] = ['packets', 'flows', 'connections', 'trafficWindows', 'portRuns', 'roundPorts'];
const NO_CUTOFF = Number.MAX_SAFE_INTEGER;

/** The SQL the cleanup runs per batch, for a query plan test. */
export function oldestRowsQuery(table: Table): string {
  return OLDEST[table];
}

/**
 * Bytes the rows take: pages in use, without the free list. The cap is checked against this,
 * not the file size, because deleted rows only become free pages - the file shrinks once at the
 * end (incremental vacuum, then the checkpoint) - so the file size would not move between batches
 * and the cap would remove everything. Reads through this connection, so the WAL counts.
 */
export function storedBytes(db: Db): number {
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  const size = db.pragma('page_size', { simple: true }) as number;
  return (pages - free) * size;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs one cleanup and records it in cleanup_runs. The counts there are updated in the same
 * transaction as each batch, so they are exact whatever ends the run. A failure marks the run
 * failed with its message and is rethrown; a stop request ends it as cancelled (not an error:
 * the next cleanup carries on where this one stopped).
 */
export async function runCleanup(db: Db, options: CleanupOptions): Promise<CleanupResult> {
  const now = options.now ?? Date.now;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`cleanup batch size must be a whole number of rows of at least 1; got ${String(batchSize)}`);
  if (typeof options.dbPath !== 'string' || options.dbPath === '') throw new TypeError('cleanup needs the database file path to measure it');
  if (options.trigger !== 'schedule' && options.trigger !== 'manual') throw new TypeError(`cleanup trigger must be 'schedule' or 'manual'; got ${String(options.trigger)}`);
  const startedAt = now();
  // Both validate the settings, so bad input is refused before anything is written.
  const cutoffs = retentionCutoffs(options.retention, startedAt);
  const cap = sizeCapBytes(options.retention['retention.maxDatabaseMb']);
  const { log } = options;

  const bytesBefore = databaseFileBytes(options.dbPath);
  const runId = Number(
    db.prepare('INSERT INTO cleanup_runs (trigger, started_at, bytes_before) VALUES (?, ?, ?)').run(options.trigger, startedAt, bytesBefore).lastInsertRowid,
  );
  const removed: Removed = { roundPorts: 0, connections: 0, packets: 0, flows: 0, trafficWindows: 0, forCap: 0 };
  const finish = (status: 'ok' | 'failed' | 'cancelled', error: string | null) => {
    const endedAt = Math.max(startedAt, now()); // a clock set back mid-run must not break the record
    const bytesAfter = databaseFileBytes(options.dbPath);
    db.prepare('UPDATE cleanup_runs SET ended_at = ?, status = ?, error = ?, bytes_after = ? WHERE id = ?').run(endedAt, status, error, bytesAfter, runId);
    return { endedAt, bytesAfter };
  };
  log.info('cleanup started', { runId, trigger: options.trigger, cutoffs, capBytes: cap, bytes: bytesBefore });

  try {
    // Report files first: a few files, and nothing in the database points at them.
    const reportFiles = removeOldReportFiles(options.dbPath, cutoffs.reports);
    if (reportFiles > 0) db.prepare('UPDATE cleanup_runs SET removed_report_files = ? WHERE id = ?').run(reportFiles, runId);
    const stopped = !(await clean(db, { cutoffs, cap, batchSize, removed, runId, log, stop: () => options.shouldStop?.() === true }));
    const status = stopped ? 'cancelled' : 'ok';
    const { endedAt, bytesAfter } = finish(status, null);
    log.info(stopped ? 'cleanup cancelled' : 'cleanup finished', { runId, removed, reportFiles, bytesBefore, bytesAfter, ms: endedAt - startedAt });
    return { runId, status, startedAt, endedAt, removed, reportFiles, bytesBefore, bytesAfter };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    try {
      finish('failed', message);
    } catch (recordErr) {
      // The connection may be the thing that failed; the original error matters more.
      log.error('cleanup failed and could not record its failure', { runId, error: message, recordError: (recordErr as Error).message });
    }
    throw err;
  }
}

interface Pass {
  cutoffs: RetentionCutoffs;
  cap: number | null;
  batchSize: number;
  removed: Removed;
  runId: number;
  log: Logger;
  stop: () => boolean;
}

/** The work of one run; resolves false when it stopped on request. */
async function clean(db: Db, p: Pass): Promise<boolean> {
  const removeBatch = batchRemover(db, p);

  const byAge: [Table, number][] = [
    ['roundPorts', p.cutoffs.roundPorts],
    ['portRuns', p.cutoffs.roundPorts],
    // Connections are per-round detail too, kept as long as the rounds' sockets.
    ['connections', p.cutoffs.roundPorts],
    ['packets', p.cutoffs.packets],
    ['flows', p.cutoffs.flows],
    // The traffic model's windows go with the flows they were read from.
    ['trafficWindows', p.cutoffs.flows],
  ];
  for (const [table, before] of byAge) {
    for (;;) {
      if (p.stop()) return false;
      const n = removeBatch(table, before, false);
      await yieldToEventLoop();
      if (n < p.batchSize) break; // fewer than asked: nothing older is left
    }
    if (table === 'portRuns') trimRuns(db, db.prepare<[number], number | null>('SELECT min(id) FROM rounds WHERE started_at >= ?').pluck().get(before) ?? null);
  }

  if (p.cap !== null) {
    for (const table of CAP_ORDER) {
      while (storedBytes(db) > p.cap) {
        if (p.stop()) return false;
        const n = removeBatch(table, NO_CUTOFF, true);
        await yieldToEventLoop();
        if (n === 0) break;
      }
      // Runs go oldest end first: rounds before the oldest end left may have lost some sockets.
      if (table === 'portRuns') trimRuns(db, db.prepare<[], number | null>('SELECT min(last_round_id) FROM rounds_ports_runs').pluck().get() ?? null);
    }
    const stored = storedBytes(db);
    if (stored > p.cap) {
      p.log.warn('database is over its size cap with no packets, flows, connections or round sockets left to remove; rounds, incidents and models are kept', { bytes: stored, capBytes: p.cap });
    }
  }

  if (!(await returnFreePages(db, p))) return false;
  checkpoint(db, p.log);
  return true;
}

/**
 * Cuts the runs that began before round `cut` at it: at most a run per socket reaches across (a
 * run is at most 240 rounds), and the rounds before the cut are then left with no socket at all,
 * as removed rounds_ports rows leave them. Null: no round to cut at, nothing reaches across.
 */
function trimRuns(db: Db, cut: number | null): void {
  if (cut === null) return;
  db.prepare(
    `UPDATE rounds_ports_runs SET first_round_id = @cut
     WHERE last_round_id >= @cut AND last_round_id < @cut + 240 AND first_round_id < @cut`,
  ).run({ cut });
}

/** Deletes one batch in its own transaction, counting it in the run's row in the same one. */
function batchRemover(db: Db, p: Pass): (table: Table, before: number, forCap: boolean) => number {
  const statements = Object.fromEntries(
    (Object.keys(OLDEST) as Table[]).map((t) => [
      t,
      {
        remove: db.prepare(`DELETE FROM ${TABLE_NAME[t]} WHERE id IN (${OLDEST[t]})`),
        count: db.prepare(`UPDATE cleanup_runs SET ${COUNT_COLUMN[t]} = ${COUNT_COLUMN[t]} + @n, removed_for_cap = removed_for_cap + @forCap WHERE id = @id`),
      },
    ]),
  ) as Record<Table, { remove: ReturnType<Db['prepare']>; count: ReturnType<Db['prepare']> }>;

  const batch = db.transaction((table: Table, before: number, forCap: boolean): number => {
    const { remove, count } = statements[table];
    const n = remove.run({ before, limit: p.batchSize }).changes;
    if (n > 0) count.run({ n, forCap: forCap ? n : 0, id: p.runId });
    return n;
  });

  return (table, before, forCap) => {
    const n = batch(table, before, forCap);
    p.removed[COUNTED_AS[table]] += n;
    if (forCap) p.removed.forCap += n;
    return n;
  };
}

/**
 * Hands free pages back to the file system in steps, yielding between them. Only a database
 * created with auto_vacuum=INCREMENTAL (every one Portent created) can; others reuse the pages.
 */
async function returnFreePages(db: Db, p: Pass): Promise<boolean> {
  if ((db.pragma('auto_vacuum', { simple: true }) as number) !== 2) {
    p.log.info('database was not created with incremental auto-vacuum; freed pages are reused but the file does not shrink');
    return true;
  }
  let free = db.pragma('freelist_count', { simple: true }) as number;
  while (free > 0) {
    if (p.stop()) return false;
    db.pragma(`incremental_vacuum(${VACUUM_PAGES_PER_STEP})`);
    const left = db.pragma('freelist_count', { simple: true }) as number;
    await yieldToEventLoop();
    if (left >= free) break;
    free = left;
  }
  return true;
}

/**
 * Moves the write-ahead log into the database and truncates it. It does not wait: a reader on
 * another connection (the detection worker, a CLI command) keeps the log busy, and waiting for
 * it here would stall the collector on this thread. SQLite's own checkpoints keep the log
 * bounded meanwhile, and tomorrow's cleanup tries again.
 */
function checkpoint(db: Db, log: Logger): void {
  const timeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma('busy_timeout = 0');
  try {
    const [row] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
    if (row && row.busy !== 0) log.info('WAL checkpoint skipped: another connection is using the database', { walFrames: row.log, checkpointed: row.checkpointed });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'SQLITE_BUSY' && code !== 'SQLITE_LOCKED') throw err;
    log.info('WAL checkpoint skipped: another connection is using the database', { error: (err as Error).message });
  } finally {
    db.pragma(`busy_timeout = ${timeout}`);
  }
}

interface RunRow {
  id: number;
  trigger: Trigger;
  started_at: number;
  ended_at: number | null;
  status: CleanupRun['status'];
  error: string | null;
  removed_round_ports: number;
  removed_connections: number;
  removed_traffic_windows: number;
  removed_packets: number;
  removed_flows: number;
  removed_for_cap: number;
  removed_report_files: number;
  bytes_before: number | null;
  bytes_after: number | null;
}

function runOf(r: RunRow): CleanupRun {
  return {
    id: r.id,
    trigger: r.trigger,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    status: r.status,
    error: r.error,
    removed: { roundPorts: r.removed_round_ports, connections: r.removed_connections, packets: r.removed_packets, flows: r.removed_flows, trafficWindows: r.removed_traffic_windows, forCap: r.removed_for_cap },
    reportFiles: r.removed_report_files,
    bytesBefore: r.bytes_before,
    bytesAfter: r.bytes_after,
  };
}

/** The cleanups that started in [from, to), oldest first, for the daily report. */
export function lastCleanupsBetween(db: Db, from: number, to: number): CleanupRun[] {
  return db.prepare<[number, number], RunRow>('SELECT * FROM cleanup_runs WHERE started_at >= ? AND started_at < ? ORDER BY started_at, id').all(from, to).map(runOf);
}

/** The most recent cleanups, newest first, for status and the settings page. */
export function lastCleanups(db: Db, limit = 10): CleanupRun[] {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`the number of cleanups to list must be a whole number of at least 1; got ${String(limit)}`);
  return db.prepare<[number], RunRow>('SELECT * FROM cleanup_runs ORDER BY started_at DESC, id DESC LIMIT ?').all(limit).map(runOf);
}
