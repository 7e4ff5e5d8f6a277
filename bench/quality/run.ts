import path from 'node:path';
import { openDatabase } from '../../src/main/engine/store/database';
import { RoundStore } from '../../src/main/engine/store/rounds';
import { DetectionStore } from '../../src/main/engine/store/detectionStore';
import { countConnections } from '../../src/main/engine/collect/sockets/types';
import { selectDetectionBackend } from '../../src/main/engine/detect/backendChoice';
import { runDetection } from '../../src/main/engine/detect/detector';
import { DEFAULT_EPHEMERAL_UDP } from '../../src/main/engine/detect/features';
import { DEFAULT_MODEL_CONFIG } from '../../src/main/engine/detect/model';
import { runCleanup } from '../../src/main/engine/maintain/cleanup';
import { silentLogger, createLogger } from '../../src/main/engine/log';
import type { BackendPreference } from '../../src/main/engine/detect/backend/selectBackend';
import { seededRandom } from '../../src/shared/random';
import { defaultSettings } from '../../src/shared/settings';
import { detectorPlan } from '../../src/main/engine/monitorPlan';
import { dayStartOf, KINDS, simulate, type IncidentKind, type Injected } from './generator';
import { evaluate, spansOf, type Alert, type EvaluationWindow, type Metrics } from './evaluate';
import { diagnoseHour } from './diagnose';
import { readRuleRounds, RuleAlerter, RuleEngine } from './rules';
import { SimulatedUser } from './user';

/**
 * One simulated run of `bench/quality.ts`: the generator's days written through the real
 * RoundStore, detection after each simulated hour exactly as the scheduler runs it, the daily
 * cleanup at its configured time with the default retention, the rule baseline judging each hour
 * as it is written, and (with the user on) a simulated user reviewing both detectors' new alerts
 * after each hour. Memory stays bounded over any number of days: rounds are generated one at a
 * time and the baselines keep counts, not rounds.
 */
export interface RunOptions {
  seed: number;
  days: number;
  ports: number;
  learnHours: number;
  backend: BackendPreference;
  user: boolean;
  verbose: boolean;
  diagnose: boolean;
  /** Scratch folder for the database and the model. */
  dir: string;
}

export const DETECTORS = ['portent', 'baseline_batch_max', 'baseline_never_seen', 'baseline_rules', 'baseline_rules_merged'] as const;
export type Detector = (typeof DETECTORS)[number];

export type Block = { days: string } & Record<Detector, Metrics>;

export type RunResult = {
  seed: number;
  user: 'on' | 'off';
  backend: string;
  ports: number;
  simulated_days: number;
  learning_hours: number;
  evaluated_days: number;
  rounds: number;
  injected: number;
  injected_by_kind: Partial<Record<IncidentKind, number>>;
  /** Injected incidents all of whose ports are beyond the model's port axis (only when --ports < 65536). */
  injected_beyond_axis_by_kind: Partial<Record<IncidentKind, number>>;
  /** With the user on: alerts marked expected, and the services they were about. */
  marked_expected?: { portent: number; rules: number; portent_services: string[]; rules_services: string[] };
  /** With 16 days or more: the first and the last 8 days, each evaluated on its own. */
  early?: Block;
  late?: Block;
  cleanups: { runs: number; round_ports_removed: number };
  hourly_runs: number;
  mean_score_s: number;
  mean_fit_s: number;
  peak_rss_mb: number;
  total_s: number;
} & Record<Detector, Metrics>;

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const MAX_STEP_MS = 150_000;

/** Monday 2 March 2026, local midnight. */
export const START = new Date(2026, 2, 2).getTime();

export async function runWeek(o: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const backend = await selectDetectionBackend(o.backend);
  const dbPath = path.join(o.dir, 'portent.db');
  const modelDir = path.join(o.dir, 'model');
  const db = openDatabase(dbPath);
  const rounds = new RoundStore(db);
  const store = new DetectionStore(db);
  const settings = defaultSettings();
  const start = START;
  const end = dayStartOf(start, o.days);
  const sim = simulate({ start, days: o.days, seed: o.seed, quietHours: o.learnHours + 6 });
  const injected = sim.injected;
  const random = seededRandom(o.seed);
  const log = o.verbose ? createLogger((l) => process.stderr.write(`${l}\n`), 'debug') : silentLogger;
  const say = (s: string) => o.verbose && process.stderr.write(`${s}\n`);
  const noConnections = countConnections([]);

  // The daily cleanup, at its configured local time, as the monitor's schedule runs it.
  const [cleanHour, cleanMinute] = settings['schedule.cleanupAt'].split(':').map(Number) as [number, number];
  const cleanupAt = (d: number) => dayStartOf(start, d) + (cleanHour * 60 + cleanMinute) * MIN;
  let cleanupDay = 0;
  const cleanups = { runs: 0, round_ports_removed: 0 };

  const rules = new RuleEngine({ learningRounds: o.learnHours * 60, maxStepMs: MAX_STEP_MS });
  const ruleAlerter = new RuleAlerter(MAX_STEP_MS);
  /** Every judged round after learning, flagged or not, for the merged view of the rule alerts. */
  const ruleFlags: { startedAt: number; flagged: boolean }[] = [];
  const portentUser = o.user ? new SimulatedUser(injected) : null;
  const rulesUser = o.user ? new SimulatedUser(injected) : null;
  const reviewed = new Set<number>();

  // The detector's options from the default settings, as the monitor derives them (learning
  // period excepted: the bench's days start at midnight, see --learn-hours).
  const plan = detectorPlan({ ...settings, 'detection.learningHours': o.learnHours });
  const iterator = sim.rounds();
  let next = iterator.next();
  let recorded = 0;
  let fitS = 0;
  let scoreS = 0;
  let runs = 0;
  try {
    for (let hourEnd = start + HOUR; hourEnd <= end; hourEnd += HOUR) {
      const hourStart = hourEnd - HOUR;
      while (!next.done && next.value.startedAt < hourEnd) {
        const r = next.value;
        for (let guard = 0; guard < 3 && cleanupDay < o.days && r.startedAt >= cleanupAt(cleanupDay); guard++, cleanupDay++) {
          const at = cleanupAt(cleanupDay);
          const c = await runCleanup(db, { retention: settings, trigger: 'schedule', dbPath, log, now: () => at });
          cleanups.runs++;
          cleanups.round_ports_removed += c.removed.roundPorts;
        }
        rounds.record({ host: 'sim', startedAt: r.startedAt, endedAt: r.startedAt + 200, outcome: { sockets: r.sockets, connections: noConnections } });
        recorded++;
        next = iterator.next();
      }

      // The rule baseline judges the hour's rounds as read back from the database; at the end of
      // the hour the user (if any) looks at its new alerts, and it learns what they approved.
      for (const rr of readRuleRounds(db, hourStart, hourEnd)) {
        const j = rules.step(rr);
        ruleFlags.push({ startedAt: j.startedAt, flagged: j.flagged });
        ruleAlerter.add(j);
      }
      for (const j of ruleAlerter.settle(rulesUser ? (a) => rulesUser.review({ start: a.start, end: a.end, ports: [...a.causes.values()] }) : null)) rules.learn(j);

      if (o.diagnose) await diagnoseHour(db, modelDir, { ...DEFAULT_MODEL_CONFIG, ports: o.ports }, hourStart, hourEnd, injected);
      const res = await runDetection({ db, modelDir, log, backend: backend.name, now: () => hourEnd, random, config: { ports: o.ports }, ...plan });
      fitS += res.fitMs / 1000;
      scoreS += res.scoreMs / 1000;
      runs++;
      say(`${new Date(hourEnd).toString().slice(0, 21)} learning=${res.learning.learning} thr=${res.threshold?.toFixed(2)} inc=${res.incidents.length} ep=${JSON.stringify(res.epochs)} ${res.incidents.map((i) => i.sentence).join(' | ')}`);

      // The user looks a minute after the detection (a mark at the detection's own time would
      // not be newer than the refit that just ran, and the next refit would not take it).
      if (portentUser) {
        for (const inc of res.incidents) {
          if (reviewed.has(inc.id)) continue;
          reviewed.add(inc.id);
          if (portentUser.review({ start: inc.startedAt, end: inc.endedAt, ports: inc.ports })) {
            store.markIncidentExpected(inc.id, hourEnd + MIN);
            say(`user marked expected: ${inc.sentence}`);
          }
        }
      }
    }

    // Evaluate from the first round scored against a threshold (the end of learning).
    const scores = db
      .prepare<[], { roundId: number; runId: number; startedAt: number; score: number; threshold: number | null; anomalous: number }>(
        `SELECT s.round_id AS roundId, s.run_id AS runId, r.started_at AS startedAt, s.score, s.threshold, s.anomalous
         FROM round_scores s JOIN rounds r ON r.id = s.round_id ORDER BY r.started_at`,
      )
      .all();
    const live = scores.filter((s) => s.threshold !== null);
    const from = live[0]?.startedAt ?? end;
    const whole: EvaluationWindow = { from, to: end };
    const targets = injected.filter((i) => i.start >= from);

    const alerts = portentAlerts(store, from);
    const batchMax = batchMaxAlerts(live);
    const neverSeen = neverSeenAlerts(db, live);
    const ruleAlerts: Alert[] = ruleAlerter.alerts.map((a) => ({ start: a.start, end: a.end, ports: [...a.causes.values()].map((c) => ({ proto: c.proto, port: c.port })) }));
    const ruleSpans = spansOf(ruleFlags, MAX_STEP_MS);
    const all = (w: EvaluationWindow): Record<Detector, Metrics> => ({
      portent: evaluate(alerts, injected, w, { explains: true }),
      baseline_batch_max: evaluate(batchMax, injected, w),
      baseline_never_seen: evaluate(neverSeen, injected, w),
      baseline_rules: evaluate(ruleAlerts, injected, w, { explains: true }),
      baseline_rules_merged: evaluate(ruleSpans, injected, w),
    });

    const count = (list: readonly Injected[]) => list.reduce<Partial<Record<IncidentKind, number>>>((m, i) => ({ ...m, [i.kind]: (m[i.kind] ?? 0) + 1 }), {});
    const out: RunResult = {
      seed: o.seed,
      user: o.user ? 'on' : 'off',
      backend: backend.name,
      ports: o.ports,
      simulated_days: o.days,
      learning_hours: o.learnHours,
      evaluated_days: Math.round(((end - from) / DAY) * 100) / 100,
      rounds: recorded,
      injected: targets.length,
      injected_by_kind: sortKinds(count(targets)),
      injected_beyond_axis_by_kind: sortKinds(count(targets.filter((i) => i.ports.every((p) => p.port >= o.ports)))),
      ...all(whole),
      cleanups,
      hourly_runs: runs,
      mean_score_s: Math.round((scoreS / runs) * 1000) / 1000,
      mean_fit_s: Math.round((fitS / runs) * 1000) / 1000,
      peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      total_s: 0,
    };
    if (portentUser && rulesUser) {
      out.marked_expected = { portent: portentUser.approvals.length, rules: rulesUser.approvals.length, portent_services: portentUser.services, rules_services: rulesUser.services };
    }
    if (o.days >= 16) {
      out.early = { days: '1-8', ...all({ from, to: dayStartOf(start, 8) }) };
      out.late = { days: `${o.days - 7}-${o.days}`, ...all({ from: dayStartOf(start, o.days - 8), to: end }) };
    }
    if (o.verbose) {
      for (const i of targets) say(`injected ${i.kind} ${new Date(i.start).toString().slice(0, 21)} ${(i.end - i.start) / MIN}min ${i.what}`);
      for (const s of live.filter((x) => !x.anomalous && x.score > 6)) say(`normal-scored ${new Date(s.startedAt).toString().slice(0, 21)} score=${s.score.toFixed(2)} thr=${s.threshold!.toFixed(2)}${targets.some((i) => s.startedAt >= i.start && s.startedAt <= i.end + 10 * MIN) ? ' inside' : ''}`);
      for (const i of store.incidents({ since: 0 }).reverse()) say(`alert ${new Date(i.startedAt).toString().slice(0, 21)} rounds=${i.rounds} peak=${i.peakScore.toFixed(1)} thr=${i.threshold.toFixed(1)} ${i.status} ${i.sentence}`);
      for (const a of ruleAlerter.alerts) {
        const causes = [...a.causes.values()].map((c) => `${[...c.rules].join('+')} ${c.port}/${c.proto} ${c.exe ?? c.process ?? '?'}`);
        say(`rules ${new Date(a.start).toString().slice(0, 21)} ${Math.round((a.end - a.start) / MIN) + 1}min${a.approved ? ' approved' : ''} ${causes.slice(0, 4).join(', ')}${causes.length > 4 ? ` and ${causes.length - 4} more` : ''}`);
      }
    }
    out.total_s = Math.round((performance.now() - started) / 100) / 10;
    return out;
  } finally {
    db.close();
  }
}

function sortKinds<T>(m: Partial<Record<IncidentKind, T>>): Partial<Record<IncidentKind, T>> {
  return Object.fromEntries(KINDS.filter((k) => m[k] !== undefined).map((k) => [k, m[k]])) as Partial<Record<IncidentKind, T>>;
}

/**
 * Portent's incidents from `from` on, with the ports their explanations name. An alert is what
 * was announced: an incident's first episode. A recurrence of its cause after a pause (a later
 * episode) is not announced again, so it is no new alert, and its span is not stretched over the
 * pause to overlap whatever was injected in between.
 */
function portentAlerts(store: DetectionStore, from: number): Alert[] {
  return store
    .incidents({ since: from })
    .reverse()
    .map((i) => {
      const first = store.episodesOf(i.id)[0] ?? { startedAt: i.startedAt, endedAt: i.endedAt };
      return { start: first.startedAt, end: first.endedAt, ports: i.ports.map((p) => ({ proto: p.proto, port: p.port })) };
    });
}

/** The reference's rule: in each hourly batch the round with the largest score, one alert an hour. */
function batchMaxAlerts(live: readonly { runId: number; roundId: number; startedAt: number; score: number }[]): Alert[] {
  const best = new Map<number, { roundId: number; score: number }>();
  for (const s of live) {
    const b = best.get(s.runId);
    if (!b || s.score > b.score) best.set(s.runId, { roundId: s.roundId, score: s.score });
  }
  const ids = new Set([...best.values()].map((b) => b.roundId));
  return spansOf(live.map((s) => ({ startedAt: s.startedAt, flagged: ids.has(s.roundId) })), MAX_STEP_MS);
}

/**
 * A round with any (proto, port) whose first sighting it is, ephemeral UDP excepted (the same
 * rule Portent's features use; without it the rule alerts on almost every round).
 */
function neverSeenAlerts(db: ReturnType<typeof openDatabase>, live: readonly { startedAt: number }[]): Alert[] {
  const [lo, hi] = DEFAULT_EPHEMERAL_UDP;
  const firstSeen = new Set(
    db
      .prepare<[number, number], { t: number }>(`SELECT first_seen_at AS t FROM ports WHERE NOT (proto = 'udp' AND port BETWEEN ? AND ?)`)
      .all(lo, hi)
      .map((r) => r.t),
  );
  return spansOf(live.map((s) => ({ startedAt: s.startedAt, flagged: firstSeen.has(s.startedAt) })), MAX_STEP_MS);
}
