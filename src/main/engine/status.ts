import { databaseFileBytes, type Db } from './store/database';
import type { MonitorState } from './monitorFile';
import { DetectionStore } from './store/detectionStore';
import type { Status } from '../../shared/contract';
import { PORTENT_VERSION } from '../../shared/version';

const DAY_MS = 86_400_000;

export interface StatusInputs {
  db: Db;
  dbPath: string;
  /** The running monitor's live state; null when no monitor runs on this database. */
  monitor: MonitorState | null;
  /** Rounds of training the model needs before it alerts (from `detection.learningHours`). */
  roundsNeeded: number;
  now?: number;
}

function startOfLocalDay(now: number): number {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/**
 * Rounds waiting for a detection. Detection scores every waiting round in order, so they all
 * come after the newest scored one: the count is a range over the rounds' primary key from
 * there, not a walk of every stored round (the tray reads status after each round and the
 * window polls it; with 30 days stored the walk was ~43,000 lookups each time).
 */
export const UNSCORED_ROUNDS_SQL = `SELECT count(*) FROM rounds r
  WHERE r.id > (SELECT coalesce(max(round_id), 0) FROM round_scores)
    AND r.status = 'ok' AND NOT EXISTS (SELECT 1 FROM round_scores s WHERE s.round_id = r.id)`;

/**
 * Everything `portent status` and the window's overview show, from the database and the live
 * monitor state. One function for both, so they cannot disagree.
 */
export function readStatus({ db, dbPath, monitor, roundsNeeded, now = Date.now() }: StatusInputs): Status {
  const lastRound = db
    .prepare<[], { id: number; startedAt: number; status: 'running' | 'ok' | 'failed'; error: string | null; ports: number }>(
      // The newest round is never compacted into runs (compaction.ts): its rows are all here.
      `SELECT r.id, r.started_at AS startedAt, r.status, r.error,
              (SELECT count(*) FROM rounds_ports rp WHERE rp.round_id = r.id) AS ports
       FROM rounds r ORDER BY r.started_at DESC, r.id DESC LIMIT 1`,
    )
    .get();
  const model = new DetectionStore(db).latestModelState();
  const lastRun = db
    .prepare<[], { startedAt: number; status: 'running' | 'ok' | 'failed' | 'cancelled' }>(
      'SELECT started_at AS startedAt, status FROM detection_runs ORDER BY started_at DESC, id DESC LIMIT 1',
    )
    .get();
  const unscored = db.prepare<[], number>(UNSCORED_ROUNDS_SQL).pluck().get()!;
  const today = startOfLocalDay(now);
  const incidents = db
    .prepare<{ today: number; week: number }, { today: number; week: number; unseen: number }>(
      `SELECT coalesce(sum(started_at >= @today), 0) AS today, count(*) AS week,
              (SELECT count(*) FROM incidents WHERE status = 'new') AS unseen
       FROM incidents WHERE started_at >= @week`,
    )
    .get({ today, week: now - 7 * DAY_MS })!;

  const firstRoundAt = db.prepare<[], number | null>('SELECT min(started_at) FROM rounds').pluck().get() ?? null;
  const learning = !model || model.threshold === null || model.roundsSeen < roundsNeeded;
  const capture: Status['capture'] = monitor?.capture ?? {
    state: 'off',
    iface: null,
    message: 'packet capture is off: the monitor is not running',
    remedy: [],
  };
  return {
    version: PORTENT_VERSION,
    monitoring: monitor !== null,
    paused: monitor?.paused ?? false,
    monitoringSince: monitor?.startedAt ?? null,
    database: dbPath,
    databaseBytes: databaseFileBytes(dbPath),
    lastRound: lastRound ?? null,
    capture,
    model: {
      state: !model ? 'none' : learning ? 'learning' : 'ready',
      training: monitor?.detecting ?? false,
      backend: model?.backend ?? null,
      version: model?.version ?? null,
      threshold: learning ? null : (model?.threshold ?? null),
      roundsSeen: model?.roundsSeen ?? 0,
      roundsNeeded,
      progress: roundsNeeded === 0 ? 1 : Math.min(1, (model?.roundsSeen ?? 0) / roundsNeeded),
    },
    detection: { running: monitor?.detecting ?? false, lastRunAt: lastRun?.startedAt ?? null, lastRunStatus: lastRun?.status ?? null },
    unscoredRounds: unscored,
    incidents,
    snoozedUntil: monitor && monitor.snoozedUntil !== null && monitor.snoozedUntil > now ? monitor.snoozedUntil : null,
    ...(monitor ? { roundSeconds: monitor.roundSeconds } : {}),
    firstRoundAt,
    ...(monitor?.recording ? { recording: monitor.recording } : {}),
  };
}
