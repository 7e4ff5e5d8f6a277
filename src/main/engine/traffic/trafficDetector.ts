import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../store/database';
import type { Logger } from '../log';
import { DetectionStore, type IncidentRow } from '../store/detectionStore';
import { isHeldOutWindow, TrafficStore, type IncidentEndpointRow, type ScoredWindowRow } from '../store/trafficStore';
import { calibrateThreshold } from '../detect/threshold';
import { CancelledError } from '../detect/cancelled';
import { CONTEXT_FEATURES, habitKey, isHabits, learnHabit, MODEL_FEATURES, SCORED_FEATURES, withContext, type Habits } from './processContext';
import { PortRarity } from './portRarity';
import { readTrafficWindows, TRAFFIC_WINDOW_ROUNDS, type TrafficWindow } from './trafficWindows';
import type { TrafficEndpoint, TrafficRow } from './trafficRow';
import type { TrafficVaeState } from './vae';
import { DEFAULT_MEMBERS, TrafficEnsemble } from './ensemble';
import { ActionStore, procIdentity, type IdentityReader } from '../store/actionStore';
import { AllowRuleStore } from '../store/allowRuleStore';
import { namesProgramOnly, ruleAllows } from '../../../shared/allowRule';
import { classify, dnsZoneRows, drivingFeatures, endpointRow, probeRows, telling, trafficSentence } from './trafficExplain';

/**
 * The traffic half of the hourly detection (docs/detection.md, "Traffic model"): windows of
 * `windowRounds` rounds are cut from the rounds recorded since the last run, each process's
 * window (and the host-wide one) is scored by the traffic VAE, windows above the threshold become
 * traffic incidents (or join the port incident of the same process), and the model is refitted
 * on the normal windows plus a replay of older ones and recalibrated on held-out windows. Runs in
 * the detection worker after the port model, with the same learning period and a share of the
 * same false-alarm budget.
 */
export const TRAFFIC_MODEL_FORMAT = 'portent-traffic-vae';
/** 2: several members (`members`) instead of one VAE (`vae`); a version-1 file is rebuilt. */
export const TRAFFIC_MODEL_FORMAT_VERSION = 2;

/** Of the alerts a day the user allows, the share the traffic model may spend; the port model has the rest. */
export const TRAFFIC_BUDGET_SHARE = 1 / 3;

/** Lowest threshold: a window whose features are all within about three spreads of what the model expects never alerts. */
export const TRAFFIC_THRESHOLD_FLOOR = 9;

export interface TrafficModelFile {
  format: typeof TRAFFIC_MODEL_FORMAT;
  formatVersion: number;
  features: string[];
  windowRounds: number;
  version: number;
  createdAt: number;
  threshold: number | null;
  thresholdMethod: string | null;
  /** Rounds of history the model has taken in (the learning period counts these). */
  roundsSeen: number;
  /** The last round of the last window scored; the next run starts after it. */
  scoredThrough: number | null;
  /**
   * The last round of the last window the model was refitted on. Windows scored by 'score' runs
   * after it wait for the next full run's refit (absent in files saved before: scoredThrough).
   */
  trainedThrough?: number | null;
  /** Each refit: when, each member's epochs and the epoch it kept, the windows trained on. */
  history: { at: number; members: { epochs: { loss: number; valScore: number | null }[]; kept: number }[]; rows: number }[];
  /** The ensemble's members (ensemble.ts), null before the first fit. */
  members: TrafficVaeState[] | null;
  /** Each process's usual traffic (processContext.ts), by processes.id ('host' for the host-wide row). */
  habits: Habits;
}

export interface TrafficOptions {
  db: Db;
  /** The JSON file the traffic model is saved in (replaced atomically). */
  modelFile: string;
  log: Logger;
  runId: number;
  now: () => number;
  random: () => number;
  minTrainingRounds: number;
  /** False alerts a day the traffic model may raise (its share of the user's budget). */
  alertsPerDay: number;
  sensitivity?: number;
  /** Rounds per window (10 one-minute rounds by default). */
  windowRounds?: number;
  /** VAEs in a new model, each from its own start, scores averaged (default DEFAULT_MEMBERS). */
  members?: number;
  /** Epochs of a new model's first training, and of each later refit: a fixed amount of work. */
  initialEpochs?: number;
  refitEpochs?: number;
  /** Older windows replayed at each refit, for training and for validation. */
  replayWindows?: number;
  holdoutWindows?: number;
  /** Most windows one run scores (a first run on a long history takes the newest). */
  maxBacklogWindows?: number;
  calibrationDays?: number;
  /** The first rounds of recording, scored but never learned (default 60, an hour; see detectTraffic). */
  warmupRounds?: number;
  /** Near misses (a share of the threshold in force) are left out of the next calibration. */
  nearMiss?: number;
  shouldStop?: () => boolean;
  /**
   * 'score': only the complete windows not scored yet, with the saved model, as soon as they are
   * complete (no refit, no recalibration; nothing while learning); 'full' (default): those, then
   * the refit on every window scored since the last one, and the threshold.
   */
  scope?: 'full' | 'score';
  /** Reads an incident process's start time and executable when the incident is recorded (default: /proc). */
  identity?: IdentityReader;
}

export interface TrafficResult {
  windowsScored: number;
  rowsScored: number;
  incidents: IncidentRow[];
  learning: { learning: boolean; roundsSeen: number; roundsNeeded: number };
  threshold: number | null;
  modelVersion: number;
  scoreMs: number;
  fitMs: number;
  epochs: number;
}

function freshModel(windowRounds: number, now: number): TrafficModelFile {
  return {
    format: TRAFFIC_MODEL_FORMAT, formatVersion: TRAFFIC_MODEL_FORMAT_VERSION, features: [...MODEL_FEATURES], windowRounds, version: 0, createdAt: now,
    threshold: null, thresholdMethod: null, roundsSeen: 0, scoredThrough: null, history: [], members: null, habits: {},
  };
}

/** The saved traffic model, or why it cannot be used (then a new one is started). */
export function loadTrafficModel(file: string, windowRounds: number): { model: TrafficModelFile; vae: TrafficEnsemble | null } | { model: null; reason: string } {
  if (!fs.existsSync(file)) return { model: null, reason: 'no saved traffic model' };
  let m: TrafficModelFile;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as TrafficModelFile;
  } catch (err) {
    return { model: null, reason: `the traffic model file is unreadable: ${(err as Error).message}` };
  }
  if (m?.format !== TRAFFIC_MODEL_FORMAT || m.formatVersion !== TRAFFIC_MODEL_FORMAT_VERSION) return { model: null, reason: `traffic model format ${String(m?.format)} v${String(m?.formatVersion)} is not ${TRAFFIC_MODEL_FORMAT} v${TRAFFIC_MODEL_FORMAT_VERSION}` };
  if (!Array.isArray(m.features) || m.features.join(',') !== MODEL_FEATURES.join(',')) return { model: null, reason: 'the saved traffic model was built on other features' };
  if (!isHabits(m.habits)) return { model: null, reason: "the traffic model file's process habits are malformed" };
  if (m.windowRounds !== windowRounds) return { model: null, reason: `the saved traffic model uses windows of ${m.windowRounds} rounds, not ${windowRounds}` };
  if (typeof m.roundsSeen !== 'number' || !Array.isArray(m.history)) return { model: null, reason: 'the traffic model file is missing fields' };
  if (m.members === null) return { model: m, vae: null };
  if (!Array.isArray(m.members)) return { model: null, reason: 'the traffic model file is missing fields' };
  try {
    return { model: m, vae: TrafficEnsemble.fromStates(m.members) };
  } catch (err) {
    return { model: null, reason: `the saved traffic model is damaged: ${(err as Error).message}` };
  }
}

function saveTrafficModel(file: string, m: TrafficModelFile): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(m));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

interface Scored {
  window: TrafficWindow;
  row: TrafficRow;
  /** The row's features with its process's context, as the model took them. */
  input: Float32Array;
  score: number;
  anomalous: boolean;
  heldOut: boolean;
}

export async function detectTraffic(o: TrafficOptions): Promise<TrafficResult> {
  const windowRounds = o.windowRounds ?? TRAFFIC_WINDOW_ROUNDS;
  const store = new TrafficStore(o.db);
  const detections = new DetectionStore(o.db);
  const loaded = loadTrafficModel(o.modelFile, windowRounds);
  let meta: TrafficModelFile;
  let vae: TrafficEnsemble | null;
  if (loaded.model) {
    meta = loaded.model;
    vae = loaded.vae;
  } else {
    if (loaded.reason !== 'no saved traffic model') o.log.warn('discarding the saved traffic model; a new one will be trained', { reason: loaded.reason, file: o.modelFile });
    meta = freshModel(windowRounds, o.now());
    // A rebuilt model does not score the past again: it learns from the windows not scored yet.
    meta.scoredThrough = store.lastScoredRound();
    vae = null;
  }
  const roundsNeeded = o.minTrainingRounds;
  const latest = store.latestRoundId(o.now());
  const empty = (): TrafficResult => ({
    windowsScored: 0, rowsScored: 0, incidents: [], threshold: meta.threshold, modelVersion: meta.version, scoreMs: 0, fitMs: 0, epochs: 0,
    learning: { learning: learningOf(meta, vae, roundsNeeded), roundsSeen: meta.roundsSeen, roundsNeeded },
  });
  if (latest === null) {
    vae?.dispose();
    return empty();
  }
  const scope = o.scope ?? 'full';
  // Windows scored by 'score' runs since the last refit, which this full run trains on.
  const trainedThrough = meta.trainedThrough === undefined ? meta.scoredThrough : meta.trainedThrough;
  const scoredBefore = meta.scoredThrough;
  const pending = scope === 'full' && scoredBefore !== null && trainedThrough !== scoredBefore;
  if (scope === 'score' && learningOf(meta, vae, roundsNeeded)) {
    vae?.dispose();
    return empty();
  }
  const from = firstRoundToScore(o.db, meta.scoredThrough, windowRounds * (o.maxBacklogWindows ?? 144), latest);
  if ((from === null || from > latest) && !pending) {
    vae?.dispose();
    return empty();
  }
  try {
    const t0 = performance.now();
    const windows = from === null || from > latest ? [] : readTrafficWindows(o.db, { fromRoundId: from, toRoundId: latest, windowRounds }).filter((w) => w.complete);
    if (windows.length === 0 && !pending) return empty();
    const learning = learningOf(meta, vae, roundsNeeded);
    const threshold = learning ? null : meta.threshold;
    const scored: Scored[] = [];
    // A program the user said is expected from now on (a rule naming it and no port: traffic is
    // not tied to one listening port) raises nothing, and its windows are learned as normal.
    const programRules = new AllowRuleStore(o.db).list().filter(namesProgramOnly);
    const allowed = (row: TrafficRow) => row.process !== null && programRules.some((r) => ruleAllows(r, { process: row.process!.name, exe: row.process!.exe, user: row.process!.user }));
    // The first hour of rounds of a history is scored but not learned: every remote end is "never
    // seen" then, because recording just began, not because the machine does something new.
    const warm = warmupEnd(o.db, o.warmupRounds ?? 60);
    const rarity = new PortRarity(o.db, windows[0]?.startedAt ?? 0, windows.at(-1)?.startedAt ?? 0);
    for (const w of windows) {
      if (o.shouldStop?.()) throw new CancelledError();
      // Each process and the machine's remote ports as they were known before this window, so a
      // run over many windows (a first run on a day of backlog, a run after a pause) gives each
      // the context an hourly run would have: a window is never scored against itself, and the
      // rows learned in this run carry the context later runs will score with.
      rarity.advance(w.startedAt);
      const inputs = w.rows.map((r) => withContext(r.features, meta.habits[habitKey(r.processId)], rarity.share(r)));
      const scores = vae && vae.trained ? vae.score(inputs) : w.rows.map(() => 0);
      const first = scored.length;
      w.rows.forEach((row, i) => scored.push({ window: w, row, input: inputs[i]!, score: scores[i]!, anomalous: threshold !== null && scores[i]! > threshold && !allowed(row), heldOut: isHeldOutWindow(w.lastRoundId) }));
      // Habits learn every normal window after the warm-up, held out or not (they are context, not training targets).
      if (w.startedAt >= warm) for (const s of scored.slice(first)) if (!s.anomalous) learnHabit(meta.habits, s.row.processId, s.row.features);
    }
    const incidents = threshold === null || !vae ? [] : recordIncidents(o, store, detections, scored, threshold, vae, meta.scoredThrough);
    store.saveWindows(
      o.runId,
      meta.version,
      scored.map((s): ScoredWindowRow => ({
        firstRoundId: s.window.firstRoundId, lastRoundId: s.window.lastRoundId, startedAt: s.window.startedAt, endedAt: s.window.endedAt, processId: s.row.processId,
        score: s.score, threshold, anomalous: s.anomalous, heldOut: s.heldOut, features: s.input,
      })),
    );
    const scoreMs = performance.now() - t0;
    const last = windows.at(-1)?.lastRoundId ?? meta.scoredThrough!;
    if (scope === 'score') {
      // The model stays as it was; the next full run refits on these windows too.
      meta.roundsSeen += windows.reduce((a, w) => a + w.rounds, 0);
      meta.scoredThrough = last;
      meta.trainedThrough = trainedThrough;
      saveTrafficModel(o.modelFile, meta);
      return {
        windowsScored: windows.length, rowsScored: scored.length, incidents, threshold: meta.threshold, modelVersion: meta.version, scoreMs, fitMs: 0, epochs: 0,
        learning: { learning: false, roundsSeen: meta.roundsSeen, roundsNeeded },
      };
    }

    // Refit: the normal windows that are not held out, scored by this run and by the 'score' runs
    // since the last refit, the windows the user approved, and a replay of older normal windows;
    // validation on held-out windows only.
    const t1 = performance.now();
    const isNew = !vae;
    const model = vae ?? TrafficEnsemble.create(SCORED_FEATURES.length, Math.floor(o.random() * 2 ** 31), o.members ?? DEFAULT_MEMBERS, { conditions: CONTEXT_FEATURES.length });
    vae = model;
    const before = trainedThrough ?? (windows[0]?.firstRoundId ?? last + 1) - 1;
    // Stored windows of a model built on other features (before an upgrade) are not learned from.
    const width = MODEL_FEATURES.length;
    const waiting = pending
      ? { train: store.scoredBetween(before, scoredBefore!, warm, 'train', width), holdout: store.scoredBetween(before, scoredBefore!, warm, 'holdout', width) }
      : { train: [], holdout: [] };
    const fresh = [...waiting.train, ...scored.filter((s) => !s.anomalous && !s.heldOut && s.window.startedAt >= warm).map((s) => s.input)];
    const approved = store.approvedSince(meta.history.at(-1)?.at ?? 0, width).map((r) => r.features);
    const replay = store.replay(o.replayWindows ?? 400, before + 1, o.random, 'train', warm, width).map((r) => r.features);
    const validation = [
      ...waiting.holdout,
      ...scored.filter((s) => !s.anomalous && s.heldOut && s.window.startedAt >= warm).map((s) => s.input),
      ...store.replay(o.holdoutWindows ?? 200, before + 1, o.random, 'holdout', warm, width).map((r) => r.features),
    ];
    const train = [...fresh, ...approved, ...replay];
    // While learning, the standardisation follows the growing history; once alerting, it stays, so
    // that scores keep the units the threshold was calibrated in.
    const fit = model.fit(train, { epochs: isNew ? (o.initialEpochs ?? 30) : (o.refitEpochs ?? 4), validation, seed: Math.floor(o.random() * 2 ** 31), patience: isNew ? 4 : 2, rescale: learning });
    const fitMs = performance.now() - t1;
    meta.roundsSeen += windows.reduce((a, w) => a + w.rounds, 0);
    meta.scoredThrough = last;
    meta.trainedThrough = last;
    meta.history.push({ at: o.now(), members: fit.members, rows: train.length });
    if (meta.history.length > 200) meta.history.splice(0, meta.history.length - 200);

    if (meta.roundsSeen >= roundsNeeded && model.trained) {
      const now = o.now();
      const pool = [...model.score(validation), ...store.recentHoldoutScores(now - (o.calibrationDays ?? 7) * 86_400_000)];
      const perDay = store.windowsPerDay(now) ?? scored.length;
      const budget = Math.min(0.5, Math.max(1e-6, o.alertsPerDay / Math.max(1, perDay)));
      const truncateAt = meta.threshold !== null ? (o.nearMiss ?? 0.8) * meta.threshold : undefined;
      if (pool.filter((x) => truncateAt === undefined || x < truncateAt).length >= 2) {
        const t = calibrateThreshold(pool, { budget, sensitivity: o.sensitivity, floor: TRAFFIC_THRESHOLD_FLOOR, truncateAt });
        meta.threshold = t.value;
        meta.thresholdMethod = t.method;
        o.log.debug('traffic threshold calibrated', { ...t, budget, windowsPerDay: Math.round(perDay) });
      } else o.log.warn('too few held-out traffic windows to recalibrate; the threshold stays', { windows: pool.length, threshold: meta.threshold });
    }
    meta.version += 1;
    meta.createdAt = o.now();
    meta.members = model.states();
    saveTrafficModel(o.modelFile, meta);
    return {
      windowsScored: windows.length, rowsScored: scored.length, incidents, threshold: meta.threshold, modelVersion: meta.version, scoreMs, fitMs, epochs: Math.max(...fit.members.map((f) => f.epochs.length)),
      learning: { learning: learningOf(meta, model, roundsNeeded), roundsSeen: meta.roundsSeen, roundsNeeded },
    };
  } finally {
    vae?.dispose();
  }
}

/** One remote end of an incident, as the incident names it. */
const endpointKey = (e: Pick<IncidentEndpointRow, 'proto' | 'address' | 'port' | 'direction' | 'name'>) => `${e.proto}|${e.address}|${e.port}|${e.direction}|${e.name ?? ''}`;

/** Remote ends named so far and those of a later window: one entry each, its facts widened, at most 16. */
function mergeEndpoints(earlier: readonly IncidentEndpointRow[], later: readonly IncidentEndpointRow[]): IncidentEndpointRow[] {
  const out = new Map(earlier.map((e) => [endpointKey(e), { ...e }]));
  for (const e of later) {
    const had = out.get(endpointKey(e));
    if (!had) out.set(endpointKey(e), { ...e });
    else {
      had.newForProcess ||= e.newForProcess;
      had.newAnywhere ||= e.newAnywhere;
      had.opened += e.opened;
      had.bytesOut += e.bytesOut;
      had.bytesIn += e.bytesIn;
      had.periodMs ??= e.periodMs;
      had.heldSince ??= e.heldSince;
    }
  }
  return [...out.values()].slice(0, 16);
}

/** When the first `rounds` rounds of recording end: windows starting before are never learned. */
function warmupEnd(db: Db, rounds: number): number {
  const t = db.prepare<[number], number | null>('SELECT started_at FROM rounds ORDER BY id LIMIT 1 OFFSET ?').pluck().get(rounds);
  return t ?? Number.MAX_SAFE_INTEGER;
}

function learningOf(meta: TrafficModelFile, vae: TrafficEnsemble | null, roundsNeeded: number): boolean {
  return !vae || !vae.trained || meta.threshold === null || meta.roundsSeen < roundsNeeded;
}

/**
 * The first round of the next window: the one after the last scored, or, for a model that has
 * scored nothing yet, the oldest round within `maxRounds` of the newest (a first run on a long
 * history takes the recent past, not all of it).
 */
function firstRoundToScore(db: Db, scoredThrough: number | null, maxRounds: number, latest: number): number | null {
  if (scoredThrough !== null) return db.prepare<[number], number | null>('SELECT min(id) FROM rounds WHERE id > ?').pluck().get(scoredThrough) ?? null;
  const ids = db.prepare<[number, number], number>('SELECT id FROM rounds WHERE id <= ? ORDER BY id DESC LIMIT ?').pluck().all(latest, maxRounds);
  return ids.length === 0 ? null : ids.at(-1)!;
}

/**
 * How long after an incident's last round or window the same cause coming back, while the user
 * has not judged it, is that incident again (an episode, not announced), not a new one: a week,
 * the period people's machines keep (a dev server on weekdays, a game on some evenings, a job on
 * Sundays), so an unjudged service that runs every few days is told once, not every time a
 * weekend or a day off passes. Port and traffic incidents alike.
 */
export const RECURRENCE_MS = 7 * 24 * 3_600_000;

/**
 * What a window would tell that an incident begun at `since` did not already know: its scanning
 * addresses and DNS zones (`synthetic`), and the remote ends the process had not talked to before
 * that incident began, counting only ends it reached within the last hour (`recentForProcess`:
 * new in the window, or first reached within RECENT_MS). An end the process had been talking to
 * for longer than that, by the socket table, by capture or by its name, is not news: it is the
 * same program's ongoing traffic, whichever address the name or the unnamed traffic had when the
 * incident began (an NTP client's next pool server, a package mirror's other address).
 */
export function newCauses(told: readonly TrafficEndpoint[], synthetic: readonly IncidentEndpointRow[], since: number): IncidentEndpointRow[] {
  const reachedSince = (e: TrafficEndpoint) => e.recentForProcess && !(e.firstSeenByProcessAt !== null && e.firstSeenByProcessAt < since);
  return [...synthetic, ...told.filter(reachedSince).map(endpointRow)];
}

/**
 * The earlier incident an anomalous window is a recurrence of: one of the same process, ended
 * within RECURRENCE_MS, that already names everything new the window would tell (newCauses).
 * Nothing new to tell, so nothing new to announce: a program whose check-ins the model keeps
 * finding odd (it never learns windows it flagged) is one incident, not one a day. A remote end
 * newly reached, a new zone or a new scanner is a new cause, and a new incident.
 */
function recurrenceOf(store: TrafficStore, s: Scored, told: readonly TrafficEndpoint[], synthetic: readonly IncidentEndpointRow[]) {
  for (const inc of store.recentOf(s.row.processId, s.window.startedAt - RECURRENCE_MS, s.window.startedAt)) {
    const named = new Set(store.endpointsOf(inc.id).map(endpointKey));
    if (newCauses(told, synthetic, inc.startedAt).every((e) => named.has(endpointKey(e)))) return inc;
  }
  return undefined;
}

/**
 * Anomalous windows become incidents. A window of a process whose previous window was anomalous
 * continues its incident, and so does a recurrence of a recent incident (recurrenceOf) after a
 * pause, without being announced again; otherwise, if a port incident of one of its pids overlaps
 * it, the traffic explanation joins that incident (one story); otherwise a new traffic incident.
 */
function recordIncidents(o: TrafficOptions, store: TrafficStore, detections: DetectionStore, scored: readonly Scored[], threshold: number, vae: TrafficEnsemble, scoredThrough: number | null): IncidentRow[] {
  const touched = new Map<number, IncidentRow>();
  const actions = new ActionStore(o.db, o.identity ?? procIdentity, o.now);
  // The processes behind a window, with the start time that tells each from a later one given its pid.
  const seen = (s: Scored) => s.row.pids.map((pid) => ({ pid, exe: s.row.process?.exe ?? null, name: s.row.process?.name ?? null, seenAt: s.window.endedAt }));
  // The last round of the window before each window, to find the incident a window continues.
  const windowsInOrder = [...new Set(scored.map((s) => s.window))];
  const lastBefore = new Map<TrafficWindow, number | null>();
  windowsInOrder.forEach((w, i) => lastBefore.set(w, i === 0 ? scoredThrough : windowsInOrder[i - 1]!.lastRoundId));
  for (const s of scored) {
    if (!s.anomalous) continue;
    const e = vae.explain(s.input);
    const kind = classify(e.shares);
    const features = drivingFeatures(e.shares, s.input, e.expected);
    const told = telling(s.row, kind);
    const synthetic = [...(kind === 'scan' ? probeRows(s.row) : []), ...(kind === 'dns-tunnel' ? dnsZoneRows(s.row) : [])];
    const endpoints = [...synthetic, ...told.map(endpointRow)].slice(0, 16);
    const before = lastBefore.get(s.window) ?? null;
    const continued = before === null ? undefined : store.continuing(s.row.processId, before);
    const open = continued ?? recurrenceOf(store, s, told, synthetic);
    if (open) {
      // The sentence stays what raised the incident (its first window knew which hosts were new);
      // the remote ends of later windows join those named, and the features are the latest.
      store.extendIncident(open.id, {
        endRoundId: s.window.lastRoundId, endedAt: s.window.endedAt, rounds: open.rounds + s.window.rounds, peakScore: Math.max(open.peakScore, s.score),
        sentence: open.sentence, endpoints: mergeEndpoints(store.endpointsOf(open.id), endpoints), features, trafficKind: open.trafficKind ?? kind,
        ...(continued ? {} : { recurrence: s.window.startedAt }),
      });
      actions.recordProcesses(open.id, seen(s));
      const row = detections.incident(open.id)!;
      // An incident the user called expected that goes on is still expected: learned as the
      // windows they approved were (APPROVED_WINDOW, with their rounds marked).
      if (row.status === 'expected') detections.approveRounds(open.id, [s.window.lastRoundId], o.now());
      touched.set(open.id, row);
      continue;
    }
    const port = store.portIncidentOf(s.row.pids, s.window.startedAt, s.window.endedAt);
    if (port) {
      // The port incident's sentence gains the traffic's once; later windows refresh the explanation only.
      const sentence = port.kind === 'both' ? port.sentence : `${port.sentence} ${trafficSentence(kind, s.row, s.window.startedAt, features)}`;
      store.attachToPortIncident(port.id, { processId: s.row.processId, trafficKind: kind, endpoints, features, sentence });
      actions.recordProcesses(port.id, seen(s));
      touched.set(port.id, detections.incident(port.id)!);
      continue;
    }
    const id = store.insertIncident(o.runId, {
      startRoundId: s.window.firstRoundId, endRoundId: s.window.lastRoundId, startedAt: s.window.startedAt, endedAt: s.window.endedAt, rounds: s.window.rounds,
      peakScore: s.score, threshold, sentence: trafficSentence(kind, s.row, s.window.startedAt, features), processId: s.row.processId, trafficKind: kind, endpoints, features,
    });
    actions.recordProcesses(id, seen(s));
    touched.set(id, detections.incident(id)!);
  }
  return [...touched.values()];
}
