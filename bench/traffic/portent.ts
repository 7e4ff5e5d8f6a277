import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Db } from '../../src/main/engine/store/database';
import { runDetection } from '../../src/main/engine/detect/detector';
import { selectDetectionBackend } from '../../src/main/engine/detect/backendChoice';
import type { BackendPreference } from '../../src/main/engine/detect/backend/selectBackend';
import { detectorPlan } from '../../src/main/engine/monitorPlan';
import { defaultSettings } from '../../src/shared/settings';
import { createLogger, silentLogger } from '../../src/main/engine/log';
import { seededRandom } from '../../src/shared/random';
import type { TrafficAlert, TrafficDetector } from './evaluate';
import { openDatabase } from '../../src/main/engine/store/database';
import { DetectionStore } from '../../src/main/engine/store/detectionStore';
import { TrafficUser, type ReviewedTrafficAlert } from './user';

const HOUR = 3_600_000;

export interface PortentBenchOptions {
  backend?: BackendPreference;
  /** The port model's axis (65,536 by default: the product's). */
  ports?: number;
  seed?: number;
  verbose?: boolean;
  /**
   * Minutes between the 'score' runs the monitor starts when a traffic window completes (every
   * ten one-minute rounds); 0 runs only the hourly job, as Portent did before those runs existed.
   */
  scoreEveryMinutes?: number;
  /**
   * A simulated user (bench/traffic/user.ts) who, after each hourly detection, marks as expected
   * the first alert about each legitimate program. Portent then runs on a copy of the database,
   * so that the run without the user reads the week as it was written.
   */
  user?: boolean;
}

/**
 * Portent itself as a detector of the traffic benchmark: both models, as the monitor runs them
 * with the default settings (learning period: the benchmark's learning day): one full detection
 * per simulated hour over the recorded week, and between them a 'score' run every ten minutes,
 * when a traffic window completes (each run sees only the rounds started by its time: `now`);
 * then every incident read back as an alert, announced when the run that opened it started.
 * Port incidents count too: the false alarms of the two models are one budget.
 */
export function portentDetector(o: PortentBenchOptions = {}): TrafficDetector {
  return async (written: Db, { start, end, learningEnd, incidents }) => {
    const backend = await selectDetectionBackend(o.backend ?? 'wasm');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-traffic-bench-'));
    let db = written;
    if (o.user) {
      const copy = path.join(dir, 'week.db');
      written.prepare('VACUUM INTO ?').run(copy);
      db = openDatabase(copy);
      db.pragma('synchronous = OFF');
    }
    const user = o.user ? new TrafficUser(incidents) : null;
    const reviewed = { lastId: 0 };
    const store = new DetectionStore(db);
    const log = o.verbose ? createLogger((l) => process.stderr.write(`${l}\n`), 'debug') : silentLogger;
    const plan = detectorPlan({ ...defaultSettings(), 'detection.learningHours': Math.round((learningEnd - start) / HOUR) });
    const random = seededRandom(o.seed ?? 1);
    try {
      const scoreEvery = (o.scoreEveryMinutes ?? 10) * 60_000;
      for (let hourEnd = start + HOUR; hourEnd <= end; hourEnd += HOUR) {
        for (let at = hourEnd - HOUR + scoreEvery; scoreEvery > 0 && at < hourEnd; at += scoreEvery) {
          await runDetection({ db, modelDir: path.join(dir, 'model'), log, backend: backend.name, now: () => at, random, config: { ports: o.ports ?? 65_536 }, ...plan, scope: 'score' });
        }
        const r = await runDetection({ db, modelDir: path.join(dir, 'model'), log, backend: backend.name, now: () => hourEnd, random, config: { ports: o.ports ?? 65_536 }, ...plan });
        if (user) {
          // The user looks a minute after the detection, at the incidents they have not seen yet.
          for (const inc of newIncidents(db, reviewed)) {
            if (user.review(inc)) {
              store.markIncidentExpected(inc.id, hourEnd + 60_000);
              if (o.verbose) process.stderr.write(`user marked expected: ${inc.sentence}\n`);
            }
          }
        }
        if (o.verbose) {
          process.stderr.write(
            `${new Date(hourEnd).toString().slice(0, 21)} ports thr=${r.threshold?.toFixed(2)} traffic thr=${r.traffic?.threshold?.toFixed(2)} learning=${r.traffic?.learning.learning} rows=${r.traffic?.rowsScored} inc=${r.incidents.length} ${r.incidents.map((i) => i.sentence).join(' | ').slice(0, 300)}\n`,
          );
        }
      }
      return alertsOf(db);
    } finally {
      if (db !== written) db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** When an incident's first episode ended: the span that was announced (a recurrence is not). */
const FIRST_EPISODE_END = 'coalesce((SELECT ended_at FROM incident_episodes e WHERE e.incident_id = i.id ORDER BY e.started_at LIMIT 1), i.ended_at)';

/** New incidents after the last one reviewed (their first episode, the program and the sentence); moves the cursor past them. */
function newIncidents(db: Db, reviewed: { lastId: number }): (ReviewedTrafficAlert & { id: number })[] {
  const rows = db
    .prepare<[number], { id: number; start: number; end: number; name: string | null; exe: string | null; processId: number | null; sentence: string }>(
      `SELECT i.id, i.started_at AS start, ${FIRST_EPISODE_END} AS "end", p.name, p.exe, i.process_id AS processId, i.sentence
       FROM incidents i LEFT JOIN processes p ON p.id = i.process_id WHERE i.id > ? AND i.status = 'new' ORDER BY i.id`,
    )
    .all(reviewed.lastId);
  reviewed.lastId = rows.at(-1)?.id ?? reviewed.lastId;
  return rows.map((r) => ({ id: r.id, start: r.start, end: r.end, sentence: r.sentence, process: r.processId === null ? null : { name: r.name, exe: r.exe } }));
}

/**
 * Every incident as an alert: its first episode (what was announced; a recurrence after a pause is
 * not announced again, and its span is not stretched over the pause), when it was announced, what
 * it names.
 */
export function alertsOf(db: Db): TrafficAlert[] {
  const rows = db
    .prepare<[], { id: number; startedAt: number; endedAt: number; raisedAt: number | null; kind: string; trafficKind: string | null; process: string | null; sentence: string }>(
      `SELECT i.id, i.started_at AS startedAt,
              ${FIRST_EPISODE_END} AS endedAt, r.started_at AS raisedAt, i.kind, i.traffic_kind AS trafficKind, p.name AS process, i.sentence
       FROM incidents i LEFT JOIN detection_runs r ON r.id = i.run_id LEFT JOIN processes p ON p.id = i.process_id ORDER BY i.started_at`,
    )
    .all();
  const endpoints = db.prepare<[number], { address: string; name: string | null }>('SELECT address, name FROM incident_endpoints WHERE incident_id = ? ORDER BY rank');
  const port = db.prepare<[number], { pid: number | null; process: string | null }>('SELECT pid, process FROM incident_ports WHERE incident_id = ? ORDER BY rank LIMIT 1');
  return rows.map((r) => {
    const eps = endpoints.all(r.id);
    const p = port.get(r.id);
    return {
      start: r.startedAt,
      end: r.endedAt,
      raisedAt: Math.max(r.raisedAt ?? r.startedAt, r.startedAt),
      pid: p?.pid ?? null,
      process: r.process ?? p?.process ?? null,
      remotes: eps.map((e) => e.address).filter((a) => a !== ''),
      domains: eps.map((e) => e.name).filter((n): n is string => n !== null),
      kind: r.trafficKind ?? r.kind,
      detail: r.sentence,
    };
  });
}
