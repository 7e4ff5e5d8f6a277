import path from 'node:path';
import type * as tf from './tf';
import type { Db } from '../store/database';
import { DetectionStore, type IncidentPortRow, type IncidentRow, type MissingPort, type OwnerChange, type RoundRef } from '../store/detectionStore';
import type { Logger } from '../log';
import { CHANNELS, CLIENT_UDP_PORTS, DEFAULT_EPHEMERAL_UDP, readFeatures, type FeatureOptions, type RoundFeatures } from './features';
import { buildModel, compileModel, DEFAULT_MODEL_CONFIG, LOGIT_CAP, occupancyFrequency, windowSpan, type Batch, type ModelConfig } from './model';
import { discardModel, loadModel, MODEL_FORMAT, MODEL_FORMAT_VERSION, saveModel, type ModelMeta } from './modelStore';
import { calibrateThreshold } from './threshold';
import { cellOf, directionOf, KNOWN_PORT_ROUNDS, sentence, trackIncidents, type Cause, type ExplainedPort, type OpenIncident, type Owner, type ScoredRound, type TrackedIncident } from './incidents';
import { fit, scoreWindows } from './training';
import { countRounds, emptyHourCounts, HourProfile, type HourCounts } from './hourProfile';
import { windowsFor } from './windows';
import { isHeldOut } from './holdout';
import { DEFAULT_BUDGET } from './threshold';
import { detectTraffic, RECURRENCE_MS, TRAFFIC_BUDGET_SHARE, type TrafficResult } from '../traffic/trafficDetector';
import { ActionStore, procIdentity, type IdentityReader } from '../store/actionStore';
import { AllowRuleStore } from '../store/allowRuleStore';
import { allowedCauses } from './allowed';
import type { SeededRandom } from '../../../shared/random';

/**
 * Share of the threshold in force at or above which a normal round's score is left out of the
 * next calibration: a near miss may be an anomaly the model did not flag, and counted as normal
 * it would raise the threshold (docs/detection.md, "Threshold").
 */
export const NEAR_MISS = 0.8;

/** The hourly detection job: score what is new, record incidents, refit on what was normal. */
export interface DetectorOptions {
  db: Db;
  /** Folder holding the saved model (replaced atomically on save). */
  modelDir: string;
  log: Logger;
  /** The tf backend in use, as reported by backend selection. */
  backend: string;
  trigger?: 'schedule' | 'manual';
  /**
   * 'full' (the hourly job): score what is waiting, record incidents, then refit on every round
   * scored since the last refit and recalibrate. 'score' (right after a round that changed what
   * listens): score what is waiting and record incidents with the model as it is stored, nothing
   * else, so an incident is announced within a round of its onset. Nothing happens while learning.
   */
  scope?: 'full' | 'score';
  now?: () => number;
  config?: Partial<ModelConfig>;
  features?: Omit<FeatureOptions, 'ports'>;
  /** Rounds of training before alerts: 360 = 6 hours of one-minute rounds. */
  minTrainingRounds?: number;
  /** Longest step between rounds still treated as consecutive (sleep and stops are gaps). */
  maxStepMs?: number;
  /** False alarms allowed per round (default one a day). */
  budget?: number;
  sensitivity?: number;
  /** Older normal rounds replayed at each refit so daily and weekly rhythms are not forgotten. */
  replayRounds?: number;
  /**
   * Most new rounds one refit trains on (a random sample when more are waiting, such as the
   * backlog of a first run); keeps every refit's cost bounded.
   */
  maxFreshRounds?: number;
  /** Most epochs of a refit (default 2), stopped early on the hold-out. */
  maxEpochs?: number;
  /** Epochs for a model's first training, which starts from scratch (default 8). */
  initialEpochs?: number;
  /** Older hold-out rounds replayed as validation windows at each refit (holdout.ts). */
  holdoutRounds?: number;
  batchSize?: number;
  /** Days of recent out-of-sample normal scores the threshold is calibrated on. */
  calibrationDays?: number;
  random?: () => number;
  shouldStop?: () => boolean;
  /**
   * Asks the JS engine for a full collection (the worker passes V8's); called between the phases
   * of a run, when what the last phase read (socket rows, batch buffers, copies of weights) is
   * garbage and the next phase is about to allocate its own. Changes no result.
   */
  collectGarbage?: () => void;
  /** Told the run's id once its row exists, so that a death of the thread can still end it. */
  onRun?: (runId: number) => void;
  /**
   * The traffic model (traffic/trafficDetector.ts) after the port model, with its share of the
   * alert budget (default on): in 'score' runs it scores the windows completed since, in full
   * runs it also refits. Off, the port model has the whole budget.
   */
  traffic?: boolean;
  /** Where the traffic model is saved (default: traffic-model.json beside the model folder). */
  trafficModelFile?: string;
  /** Rounds per traffic window (default 10). */
  trafficWindowRounds?: number;
  /** Reads an incident process's start time and executable when the incident is recorded (default: /proc). */
  identity?: IdentityReader;
}

export interface DetectionResult {
  runId: number;
  roundsScored: number;
  /** Incidents this run opened or extended; `grew`: an extended one gained a listener. */
  incidents: (IncidentRow & { grew?: boolean })[];
  /** roundsSeen: rounds of history taken in, which the learning period counts. */
  learning: { learning: boolean; roundsSeen: number; roundsNeeded: number };
  modelVersion: number;
  backend: string;
  threshold: number | null;
  scoreMs: number;
  fitMs: number;
  epochs: number;
  /** What the traffic model did in this run (absent when it is off or failed). */
  traffic?: Omit<TrafficResult, 'incidents'>;
}

export const DEFAULT_MIN_TRAINING_ROUNDS = 360;

/** Rounds a day at one round a minute: the budget is per round, the traffic model's per window. */
const ROUNDS_A_DAY = 1440;

/**
 * Where a run stands after the port model: its result so far, and what the traffic model needs
 * to go on (plain data, so that the traffic model can run in a thread of its own).
 */
export interface PortPhase {
  result: DetectionResult;
  /** The run is finished (the traffic model is off): nothing follows. */
  done: boolean;
  /**
   * Where the run's seeded random stream stood at the end of the port model (SeededRandom.state),
   * for the traffic model's thread to go on with it; null when the run's stream is not a seeded one.
   */
  randomState: number | null;
}

/** Runs one detection in the calling thread: the port model, then the traffic model. */
export async function runDetection(o: DetectorOptions): Promise<DetectionResult> {
  const phase = await runPortPhase(o);
  return phase.done ? phase.result : runTrafficPhase(o, phase);
}

/**
 * The run's first part: records the run and runs the port model. With the traffic model off the
 * run is finished here; otherwise runTrafficPhase finishes it, in this thread or in another
 * (detectInWorker runs each part in a worker of its own, so that the traffic model's reading does
 * not come on top of the port model's memory).
 */
export async function runPortPhase(o: DetectorOptions): Promise<PortPhase> {
  const now = o.now ?? Date.now;
  const store = new DetectionStore(o.db);
  const runId = store.startRun(o.trigger ?? 'schedule', now(), o.backend, o.scope ?? 'full');
  o.onRun?.(runId);
  try {
    const budget = o.budget ?? DEFAULT_BUDGET;
    const withTraffic = o.traffic !== false;
    const result = await detect({ ...o, budget: withTraffic ? budget * (1 - TRAFFIC_BUDGET_SHARE) : budget }, store, runId);
    if (!withTraffic) store.finishRun(runId, { endedAt: now(), status: 'ok', roundsScored: result.roundsScored, incidents: result.incidents.length, modelVersion: result.modelVersion });
    const seeded = o.random as Partial<SeededRandom> | undefined;
    return { result, done: !withTraffic, randomState: typeof seeded?.state === 'function' ? seeded.state() : null };
  } catch (err) {
    failRun(store, runId, now(), err);
    throw err;
  }
}

/**
 * The run's second part: the traffic model, with its share of the alert budget, after the port
 * model of `phase` (a 'score' run scores the traffic windows completed since the last run as
 * soon as they are complete); then the run is finished. A failure of the traffic model leaves the
 * port model's results standing and is retried at the next run.
 */
export async function runTrafficPhase(o: DetectorOptions, phase: PortPhase): Promise<DetectionResult> {
  const now = o.now ?? Date.now;
  const store = new DetectionStore(o.db);
  const { result } = phase;
  const runId = result.runId;
  try {
    const budget = o.budget ?? DEFAULT_BUDGET;
    // In the same thread, the port model's garbage (its scoring and training buffers, the rows
    // it read) goes before the traffic model reads its windows, instead of whenever the heap next fills.
    o.collectGarbage?.();
    try {
      const t = await detectTraffic({
        db: o.db, modelFile: o.trafficModelFile ?? path.join(path.dirname(o.modelDir), 'traffic-model.json'), log: o.log, runId, now,
        random: o.random ?? Math.random,
        minTrainingRounds: o.minTrainingRounds ?? DEFAULT_MIN_TRAINING_ROUNDS, alertsPerDay: budget * ROUNDS_A_DAY * TRAFFIC_BUDGET_SHARE, sensitivity: o.sensitivity,
        windowRounds: o.trafficWindowRounds, shouldStop: o.shouldStop, identity: o.identity, scope: o.scope ?? 'full',
      });
      const { incidents, ...summary } = t;
      const known = new Set(result.incidents.map((i) => i.id));
      result.incidents.push(...incidents.filter((i) => !known.has(i.id)));
      result.traffic = summary;
    } catch (err) {
      if ((err as Error).name === 'CancelledError') throw err;
      // The port model's results stand; the traffic model tries again at the next run.
      o.log.error('traffic detection failed; port detection is unaffected', { error: (err as Error).message });
    }
    store.finishRun(runId, { endedAt: now(), status: 'ok', roundsScored: result.roundsScored, incidents: result.incidents.length, modelVersion: result.modelVersion });
    return result;
  } catch (err) {
    failRun(store, runId, now(), err);
    throw err;
  }
}

/** Ends a run that stopped on an error: cancelled when it was asked to stop, failed otherwise. */
function failRun(store: DetectionStore, runId: number, at: number, err: unknown): void {
  const cancelled = (err as Error).name === 'CancelledError';
  store.finishRun(runId, { endedAt: at, status: cancelled ? 'cancelled' : 'failed', roundsScored: 0, incidents: 0, modelVersion: null, error: (err as Error).message });
}

async function detect(o: DetectorOptions, store: DetectionStore, runId: number): Promise<DetectionResult> {
  const config: ModelConfig = { ...DEFAULT_MODEL_CONFIG, ...o.config };
  const now = o.now ?? Date.now;
  const maxStepMs = o.maxStepMs ?? 150_000;
  const minRounds = o.minTrainingRounds ?? DEFAULT_MIN_TRAINING_ROUNDS;
  const random = o.random ?? Math.random;
  const w = windowSpan(config);
  const scope = o.scope ?? 'full';

  // Rounds started by now: in use every round is; a replay of a recorded week (the traffic
  // benchmark) detects hour by hour as the scheduler would have.
  const unscored = store.unscoredRounds(-1, now());
  const loaded = await loadModel(o.modelDir, config);
  if (!loaded.model && loaded.reason !== 'no saved model') {
    o.log.warn('discarding the saved detection model; a new one will be trained', { reason: loaded.reason, dir: o.modelDir });
    discardModel(o.modelDir);
  } else if (!loaded.model && unscored.length > 0) {
    o.log.info('no saved detection model yet; training a new one', { dir: o.modelDir });
  }
  const previous = store.latestModel();
  const loadedLearning = !loaded.model || loaded.meta.threshold === null || seenOf(loaded.meta) < minRounds;
  // Rounds scored by 'score' runs since the last refit wait for the hourly refit.
  const refitPending = scope === 'full' && loaded.model !== null && loaded.meta.trainedThrough !== undefined && store.hasScoredAfter(loaded.meta.trainedThrough);
  if ((unscored.length === 0 && !refitPending) || (scope === 'score' && loadedLearning)) {
    const meta = loaded.model ? loaded.meta : null;
    loaded.model?.dispose();
    return {
      runId, roundsScored: 0, incidents: [], modelVersion: meta?.version ?? 0, backend: o.backend, threshold: meta?.threshold ?? null, scoreMs: 0, fitMs: 0, epochs: 0,
      learning: { learning: !meta || meta.threshold === null, roundsSeen: meta ? seenOf(meta) : 0, roundsNeeded: minRounds },
    };
  }

  // While learning nothing alerts, so every round is normal and its ports' owners are learned
  // before the features are read: a browser's random high UDP ports are then counted from the
  // first hour on, instead of being learned as cells.
  const learningRun = loadedLearning;
  if (learningRun) store.learnOwners(unscored.map((r) => r.id));
  const [ephLo, ephHi] = o.features?.ephemeralUdp ?? DEFAULT_EPHEMERAL_UDP;
  const featureOptions: FeatureOptions = { ...o.features, ports: config.ports, clientUdpOwners: store.clientUdpOwners(ephLo, ephHi, CLIENT_UDP_PORTS) };
  const context = unscored.length > 0 ? store.roundsBefore(unscored[0]!.startedAt, w - 1) : [];
  const rounds = unscored.length > 0 ? [...context, ...unscored] : [];
  const features = readFeatures(o.db, rounds, featureOptions);
  const byId = new Map(features.map((f) => [f.roundId, f]));

  let model: tf.LayersModel;
  let meta: ModelMeta;
  if (loaded.model) {
    model = loaded.model;
    meta = loaded.meta;
  } else {
    model = buildModel(config, occupancyFrequency(features.slice(context.length), config.ports), Math.floor(random() * 2 ** 31));
    meta = {
      format: MODEL_FORMAT, formatVersion: MODEL_FORMAT_VERSION, version: (previous?.version ?? 0) + 1, createdAt: now(), backend: o.backend,
      config, threshold: null, thresholdMethod: null, roundsTrained: 0, roundsSeen: 0, history: [], hourCounts: emptyHourCounts(),
    };
    // A model rebuilt over a stored history (a corrupt or outdated one discarded) counts the
    // hours of day of that history again instead of starting from nothing, a batch of rounds at
    // a time so that memory stays bounded however long it is.
    if (unscored.length > 0) rebuildHourCounts(o.db, store, meta.hourCounts!, unscored[0]!.id, featureOptions, o.log);
  }
  meta.roundsSeen = seenOf(meta);
  const hourCounts = meta.hourCounts ?? emptyHourCounts();
  meta.hourCounts = hourCounts;
  // Scoring and the held-out windows use the counts as they were before this hour's rounds: a
  // round's own time of day is not made usual by itself.
  const profile = new HourProfile(structuredClone(hourCounts));
  compileModel(model, config);
  try {
    const learning = meta.threshold === null || meta.roundsSeen < minRounds;
    const threshold = learning ? null : meta.threshold;

    // Score.
    const t0 = performance.now();
    const windows = windowsFor(rounds, w, maxStepMs, context.length);
    // One batch buffer for scoring and the refit: 16 MB at 65,536 ports, allocated once a run.
    const batch: { reuse?: Batch } = {};
    const scores = await scoreWindows(model, config, features, windows, {
      batch,
      batchSize: o.batchSize,
      profile,
      explain: (_i, s) => threshold !== null && s > threshold,
      triggerAbove: threshold ?? undefined,
      shouldStop: o.shouldStop,
    });
    // Owner changes are a rule beside the model, which sees ports, not who holds them.
    const changes =
      threshold === null ? new Map<number, ChangeCause[]>() : ownerChangeCauses(store.ownerChanges(unscored.map((r) => r.id), KNOWN_PORT_ROUNDS, { proto: 'udp', lo: ephLo, hi: ephHi }));
    // So is a running program without a port it always holds: the model is surprised by the
    // first round of an absence only, and predicts the rest from it.
    if (threshold !== null) addMissingPorts(changes, store, [...context.slice(-1), ...unscored], { threshold, maxStepMs, numbered: { proto: 'udp', lo: ephLo, hi: ephHi } });
    const changedOwner = new Map([...changes.values()].flat().map((c) => [`${c.roundId}:${c.cell}`, c.owner]));
    // What the user said is expected from now on raises nothing and is learned as normal.
    const allow = allowedCauses(new AllowRuleStore(o.db).list(), store);
    const own: ScoredRound[] = unscored.map((r, i) => {
      const kept = threshold === null ? null : allow(r.id, scores[i]!.cells ?? [], changes.get(r.id) ?? [], threshold);
      const ruleCauses = kept ? (kept.ruleCauses.length > 0 ? kept.ruleCauses : undefined) : changes.get(r.id);
      const cells = kept ? kept.cells : scores[i]!.cells;
      const above = kept ? kept.above : scores[i]!.score > (threshold ?? Infinity);
      const anomalous = threshold !== null && (above || ruleCauses !== undefined);
      return { roundId: r.id, startedAt: r.startedAt, score: scores[i]!.score, anomalous, cells, ruleCauses };
    });
    const tracked =
      threshold === null
        ? { rounds: own, incidents: [] }
        : trackIncidents(own, {
            threshold,
            maxStepMs,
            occupiedCells: (r) => new Set(byId.get(r.roundId)!.active),
            ownerOf: (c, r) => changedOwner.get(`${r.roundId}:${c.cell}`) ?? store.holderAt(c.proto, c.port, r.roundId),
            open: unscored.length > 0 ? allow.open(openIncidents(store, context, unscored[0]!, maxStepMs), context.at(-1)?.id ?? 0) : [],
          });
    const scored = tracked.rounds;
    const scoreMs = performance.now() - t0;
    store.saveScores(runId, meta.version, scored.map((s) => ({ roundId: s.roundId, score: s.score, threshold, anomalous: s.anomalous })));
    const incidents = threshold === null ? [] : recordIncidents(store, new ActionStore(o.db, o.identity ?? procIdentity, now), runId, tracked.incidents, threshold, now());
    if (scope === 'score') {
      o.log.debug('rounds scored', { scored: scored.length, incidents: incidents.length, threshold, scoreMs: Math.round(scoreMs) });
      return {
        runId, roundsScored: scored.length, incidents, modelVersion: meta.version, backend: o.backend, threshold, scoreMs, fitMs: 0, epochs: 0,
        learning: { learning: false, roundsSeen: meta.roundsSeen, roundsNeeded: minRounds },
      };
    }

    // Refit on what is new to the model and was normal (every round scored since its last refit,
    // by this run or by the 'score' runs after each changed round), plus approved rounds, plus a
    // replay of older normal rounds. If the refit is cancelled, the scores stay and the model
    // stays as it was; the next refit takes these rounds again. Hold-out rounds (holdout.ts) are
    // never trained on: they stop the fit early and calibrate the threshold.
    const t1 = performance.now();
    const after = meta.trainedThrough ?? unscored[0]!.id - 1;
    const since = store.scoredAfter(after);
    const normal = since.filter((s) => !s.anomalous).map((s) => ({ id: s.id, startedAt: s.startedAt }));
    const learnable = normal.filter((r) => !isHeldOut(r.id));
    const fresh = sample(learnable, o.maxFreshRounds ?? 240, random);
    const approved = store.expectedSince(meta.history.at(-1)?.at ?? 0);
    const replay = store.replaySample(o.replayRounds ?? 60, after + 1, random, 'train');
    const heldOut = [...normal.filter((r) => isHeldOut(r.id)), ...store.replaySample(o.holdoutRounds ?? 40, after + 1, random, 'holdout')];
    // The hour-of-day counts take every learnable round, not only the sample: load them all.
    const unread = [...learnable, ...approved].filter((r) => !byId.has(r.id));
    for (const f of readFeatures(o.db, unread, featureOptions)) byId.set(f.roundId, f);
    store.learnOwners([...(learningRun ? [] : normal), ...approved].map((r) => r.id));
    const trainWindows = trainingWindows(store, o.db, [...fresh, ...approved, ...replay], byId, w, maxStepMs, featureOptions);
    const valWindows = trainingWindows(store, o.db, heldOut, byId, w, maxStepMs, featureOptions);
    countRounds(hourCounts, [...learnable, ...approved].map((r) => byId.get(r.id)).filter((f) => f !== undefined));
    const allFeatures = [...byId.values()];
    const index = new Map(allFeatures.map((f, i) => [f.roundId, i]));
    const toIdx = (wins: number[][]) => wins.map((win) => win.map((id) => index.get(id)!));
    // What scoring and reading the training rounds left (socket rows, batch buffers) goes before
    // the refit grows the wasm heap, whose size is then kept for the rest of the run.
    o.collectGarbage?.();
    const history = await fit(model, config, allFeatures, toIdx(trainWindows), {
      maxEpochs: meta.history.length === 0 ? (o.initialEpochs ?? 8) : (o.maxEpochs ?? 2),
      validation: toIdx(valWindows),
      batchSize: o.batchSize,
      random,
      shouldStop: o.shouldStop,
      profile,
      batch,
    });
    const fitMs = performance.now() - t1;
    // The refit's buffers and its copies of the best weights, before saving copies the weights again.
    o.collectGarbage?.();
    meta.roundsSeen += normal.length + approved.length;
    meta.trainedThrough = Math.max(after, ...since.map((s) => s.id));
    meta.roundsTrained += history.epochs.length > 0 ? trainWindows.length : 0;
    meta.history.push({ at: now(), epochs: history.epochs });
    if (meta.history.length > 200) meta.history.splice(0, meta.history.length - 200);

    // Recalibrate on scores of hold-out rounds only, which no model ever trained on: those of
    // this fit under the kept weights, and those stored by each hour's model over the last days.
    // Scores near the threshold in force are left out as suspect (threshold.ts, truncateAt).
    if (meta.roundsSeen >= minRounds) {
      const pool = [...history.validationScores, ...store.recentHoldoutScores(now() - (o.calibrationDays ?? 7) * 86_400_000)];
      const truncateAt = meta.threshold !== null ? NEAR_MISS * meta.threshold : undefined;
      if (pool.filter((x) => truncateAt === undefined || x < truncateAt).length >= 2) {
        const t = calibrateThreshold(pool, { budget: o.budget, sensitivity: o.sensitivity, ceiling: 0.9 * LOGIT_CAP, truncateAt });
        meta.threshold = t.value;
        meta.thresholdMethod = t.method;
        o.log.debug('threshold calibrated', { ...t, heldOutMax: Math.max(...history.validationScores, 0), poolMax: Math.max(...pool) });
      } else o.log.warn('too few hold-out scores to recalibrate; the threshold stays', { scores: pool.length, threshold: meta.threshold });
    }
    meta.backend = o.backend;
    meta.createdAt = now();
    meta.version = Math.max(meta.version, previous?.version ?? 0) + 1;
    await saveModel(o.modelDir, model, meta);
    store.recordModel({ version: meta.version, createdAt: meta.createdAt, backend: o.backend, threshold: meta.threshold, architecture: config, history: meta.history.at(-1), roundsTrained: meta.roundsTrained, roundsSeen: meta.roundsSeen });
    const nowLearning = meta.threshold === null || meta.roundsSeen < minRounds;
    o.log.info('detection finished', {
      backend: o.backend, scored: scored.length, incidents: incidents.length, learning: nowLearning, roundsSeen: meta.roundsSeen, roundsTrained: meta.roundsTrained,
      threshold: meta.threshold, epochs: history.epochs.length, scoreMs: Math.round(scoreMs), fitMs: Math.round(fitMs),
    });
    return {
      runId, roundsScored: scored.length, incidents, modelVersion: meta.version, backend: o.backend, threshold: meta.threshold, scoreMs, fitMs, epochs: history.epochs.length,
      learning: { learning: nowLearning, roundsSeen: meta.roundsSeen, roundsNeeded: minRounds },
    };
  } finally {
    // The optimizer is passed in, not owned by the model, so model.dispose() leaves its moments
    // (two tensors per weight, 44 MB) behind: one leak an hour until wasm memory runs out.
    model.optimizer?.dispose();
    model.dispose();
  }
}

/** Rounds read at a time when a rebuilt model's hour-of-day counts are counted from stored history. */
const REBUILD_BATCH_ROUNDS = 1000;

function rebuildHourCounts(db: Db, store: DetectionStore, counts: HourCounts, beforeRoundId: number, featureOptions: FeatureOptions, log: Logger): void {
  const past = store.learnableRounds(beforeRoundId);
  if (past.length === 0) return;
  for (let i = 0; i < past.length; i += REBUILD_BATCH_ROUNDS) countRounds(counts, readFeatures(db, past.slice(i, i + REBUILD_BATCH_ROUNDS), featureOptions));
  log.info('hour-of-day counts rebuilt from stored history', { rounds: past.length, from: past[0]!.startedAt, to: past.at(-1)!.startedAt });
}

/** Rounds of history a model has taken in; models saved before it was kept held it in roundsTrained. */
function seenOf(meta: ModelMeta): number {
  return meta.roundsSeen ?? meta.roundsTrained;
}

/** The incidents still open at the round just before `first` (none across a gap in time). */
function openIncidents(store: DetectionStore, context: readonly RoundRef[], first: RoundRef, maxStepMs: number): OpenIncident[] {
  const before = context.at(-1);
  if (!before || first.startedAt - before.startedAt > maxStepMs) return [];
  return store.incidentsEndingAt(before.id).map((i) => ({
    id: i.id,
    startedAt: i.startedAt,
    // Only ports that opened hold an incident open; an owner change holds it by being found
    // again, and a vanished port not at all (trackIncidents).
    cells: (store.incident(i.id)?.ports ?? []).map((p) => ({
      cell: cellOf(p.proto, p.port, CHANNELS),
      occupied: p.direction === 'appeared' || p.direction === 'unusual-hour',
      owner: { pid: p.pid, exe: p.exe, process: p.process },
    })),
  }));
}

function sample<T>(items: readonly T[], n: number, random: () => number): T[] {
  if (items.length <= n) return [...items];
  const copy = [...items];
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}

/**
 * Windows (as round ids) for training targets, loading features of rounds not yet loaded. A
 * window containing a round that was anomalous and not approved is dropped: an intrusion is
 * never learned as normal, not even as context.
 */
export function trainingWindows(store: DetectionStore, db: Db, targets: readonly RoundRef[], byId: Map<number, RoundFeatures>, w: number, maxStepMs: number, featureOptions: FeatureOptions): number[][] {
  const seen = new Set<number>();
  const chains: RoundRef[][] = [];
  for (const t of targets) {
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    chains.push([...store.roundsBefore(t.startedAt, w - 1), t]);
  }
  const missing = new Map<number, RoundRef>();
  for (const chain of chains) for (const r of chain) if (!byId.has(r.id)) missing.set(r.id, r);
  for (const f of readFeatures(db, [...missing.values()], featureOptions)) byId.set(f.roundId, f);
  const out = chains.map((chain) => windowsFor(chain, w, maxStepMs, chain.length - 1)[0]!.map((i) => chain[i]!.id));
  const bad = store.unapprovedAnomalous([...new Set(out.flat())]);
  return out.filter((win) => !win.some((id) => bad.has(id)));
}

/**
 * Stores what the tracker found: a new incident per new cause, and continued incidents extended
 * with their explanation widened to every port they hold (the sentence describes all of them).
 */
function recordIncidents(store: DetectionStore, actions: ActionStore, runId: number, tracked: readonly TrackedIncident[], threshold: number, at: number): DetectionResult['incidents'] {
  const out: DetectionResult['incidents'] = [];
  // An incident the user called expected that goes on is still expected: its new rounds are
  // approved too, once every incident of the batch is stored (so that one it shares a round with
  // keeps that round out).
  const stillExpected: { id: number; roundIds: number[] }[] = [];
  for (const t of tracked) {
    const first = t.rounds[0]!;
    const last = t.rounds.at(-1)!;
    // Facts about each port as of the incident's last round: a port that appeared after the
    // onset (a listener the same process added) still has its holder named.
    const ports = explain(store, t, last.roundId);
    // Who holds its ports now, with the start time that tells them from a later process with the
    // same pid (a vanished port's last holder has gone, and is not recorded).
    const processes = ports
      .filter((p) => p.pid !== null && p.direction !== 'vanished')
      .map((p) => ({ pid: p.pid!, exe: p.exe, name: p.process, seenAt: last.startedAt }));
    if (t.continues !== null) {
      const earlier = store.incident(t.continues)!;
      const merged = mergePorts(earlier.ports, earlier.rounds, ports, t.rounds.length);
      store.extendIncident(earlier.id, {
        endRoundId: last.roundId, endedAt: last.startedAt, rounds: earlier.rounds + t.rounds.length, peakScore: Math.max(earlier.peakScore, t.peak),
        sentence: sentence(merged, earlier.startedAt), ports: merged,
      });
      // A listener that opened while the incident was already running is news: unseen again.
      if (t.grew) store.setIncidentStatus(earlier.id, 'new');
      else if (earlier.status === 'expected') stillExpected.push({ id: earlier.id, roundIds: t.rounds.map((r) => r.roundId) });
      actions.recordProcesses(earlier.id, processes);
      out.push({ ...store.incident(earlier.id)!, grew: t.grew });
      continue;
    }
    const again = recurrenceOf(store, ports, first.startedAt);
    if (again) {
      // The same cause back after a pause: a new episode of its incident, not a new announcement.
      const merged = mergePorts(again.ports, again.rounds, ports, t.rounds.length);
      store.extendIncident(again.id, {
        endRoundId: last.roundId, endedAt: last.startedAt, rounds: again.rounds + t.rounds.length, peakScore: Math.max(again.peakScore, t.peak),
        sentence: sentence(merged, again.startedAt), ports: merged, recurrence: first.startedAt,
      });
      actions.recordProcesses(again.id, processes);
      out.push({ ...store.incident(again.id)!, grew: false });
      continue;
    }
    const id = store.insertIncident(runId, {
      startRoundId: first.roundId, endRoundId: last.roundId, startedAt: first.startedAt, endedAt: last.startedAt, rounds: t.rounds.length,
      peakScore: t.peak, threshold, sentence: sentence(ports, first.startedAt), ports,
    });
    actions.recordProcesses(id, processes);
    out.push(store.incident(id)!);
  }
  for (const e of stillExpected) store.approveRounds(e.id, e.roundIds, at);
  return out;
}

/**
 * Directions whose cause may recur unannounced: a listener the model never learned, a state that
 * lasts. Not an impostor on a known port (`new-owner`): that is told every time it comes back.
 */
const RECURRING: ReadonlySet<IncidentPortRow['direction']> = new Set(['appeared']);

/**
 * The earlier port incident a new one is a recurrence of: one that ended within RECURRENCE_MS
 * before `startedAt`, that the user has not judged yet, and that already names each of the new
 * incident's ports with the same direction and the same program. Only a listener the model never
 * learned recurs (it is never trained on without the user's approval, so it alerts every morning
 * it opens). An impostor on a known port is told each time it comes back, and so is a moment (a
 * service vanishing, a known one open at an unusual hour) and anything new: another port,
 * another program, another direction.
 */
function recurrenceOf(store: DetectionStore, ports: readonly IncidentPortRow[], startedAt: number): IncidentRow | undefined {
  if (ports.length === 0 || !ports.every((p) => RECURRING.has(p.direction))) return undefined;
  const program = (p: IncidentPortRow) => p.exe ?? p.process;
  for (const candidate of store.recentPortIncidents(startedAt, RECURRENCE_MS, ports[0]!)) {
    const earlier = store.incident(candidate.id);
    if (!earlier) continue;
    const told = (p: IncidentPortRow) =>
      program(p) !== null && earlier.ports.some((q) => q.proto === p.proto && q.port === p.port && q.direction === p.direction && program(q) === program(p));
    if (ports.every(told)) return earlier;
  }
  return undefined;
}

/** Most ports stored for one incident (a burst is summarised in its sentence). */
const MAX_INCIDENT_PORTS = 256;

/** An incident's ports: the cells that raised it, most error first, each with its share. */
function explain(store: DetectionStore, t: TrackedIncident, lastRoundId: number): IncidentPortRow[] {
  const cells = [...t.cells.values()].sort((a, b) => b.total - a.total).slice(0, MAX_INCIDENT_PORTS);
  const total = cells.reduce((sum, c) => sum + c.total, 0);
  return cells.map(({ cell, total: error, owner }): ExplainedPort => {
    const facts = store.portFacts(cell.proto, cell.port, lastRoundId);
    const holder = cell.newOwner && owner ? owner : facts;
    return {
      proto: cell.proto, port: cell.port, direction: cell.newOwner ? 'new-owner' : directionOf(cell, facts), share: total > 0 ? Math.min(1, error / total) : 0, expected: cell.expected,
      process: holder.process, exe: holder.exe, pid: holder.pid, firstSeenAt: facts.firstSeenAt,
      usualProcess: cell.newOwner?.process ?? null, usualExe: cell.newOwner?.exe ?? null,
    };
  });
}

/**
 * Owner changes as causes, by round. A rule, not a reconstruction error: each gets the largest
 * error the model can give (LOGIT_CAP nats), so it ranks with the surest surprises.
 */
type ChangeCause = Cause & { roundId: number; owner: Owner; user: string | null };

function ownerChangeCauses(changes: readonly OwnerChange[]): Map<number, ChangeCause[]> {
  const out = new Map<number, ChangeCause[]>();
  for (const ch of changes) {
    const cause = {
      roundId: ch.roundId, cell: cellOf(ch.proto, ch.port, CHANNELS), port: ch.port, proto: ch.proto, occupied: true, expected: 0, error: LOGIT_CAP,
      newOwner: { process: ch.usual[0]!.name, exe: ch.usual[0]!.exe }, owner: { pid: ch.pid, exe: ch.holder.exe, process: ch.holder.name }, user: ch.holder.user,
    };
    const list = out.get(ch.roundId) ?? [];
    // One cause per (round, port), however many sockets the newcomer holds.
    if (!list.some((c) => c.cell === cause.cell)) list.push(cause);
    out.set(ch.roundId, list);
  }
  return out;
}

/** Learnable rounds a program must have run in before a port missing from it is judged (an hour of one-minute rounds). */
export const MISSING_MIN_ROUNDS = 60;
/** Share of those rounds in which it must have held the port. */
export const MISSING_MIN_SHARE = 0.99;

/**
 * A running program without a port it holds whenever it runs, as rule causes by round
 * (DetectionStore.missingPorts): syncthing still up with its sync port gone, nginx serving 80
 * but no longer 443. Judged only when the port is missing in two consecutive rounds while the
 * program runs in both, since a program that stops closes its listeners one after another and a
 * round may fall between two of them. Its error is the surprise −log(1 − p̂) of the absence under
 * the program's own record p̂ (at most LOGIT_CAP), so it alerts only above the threshold like a
 * cell of the model. A program that stops altogether is not "running without" anything: that is
 * the model's to judge (a usual service gone at its usual hours).
 */
function addMissingPorts(
  causes: Map<number, ChangeCause[]>, store: DetectionStore, rounds: readonly RoundRef[], o: { threshold: number; maxStepMs: number; numbered: { proto: 'tcp' | 'udp'; lo: number; hi: number } },
): void {
  const missing = new Map<number, Map<string, MissingPort>>();
  for (const m of store.missingPorts(rounds.map((r) => r.id), { minRounds: MISSING_MIN_ROUNDS, minShare: MISSING_MIN_SHARE, numbered: o.numbered })) {
    const inRound = missing.get(m.roundId) ?? new Map<string, MissingPort>();
    inRound.set(`${m.processId}:${m.proto}/${m.port}`, m);
    missing.set(m.roundId, inRound);
  }
  for (let i = 1; i < rounds.length; i++) {
    const r = rounds[i]!;
    const now = missing.get(r.id);
    const before = missing.get(rounds[i - 1]!.id);
    if (!now || !before || r.startedAt - rounds[i - 1]!.startedAt > o.maxStepMs) continue;
    for (const [key, m] of now) {
      const error = Math.min(LOGIT_CAP, -Math.log(1 - m.usual));
      if (!before.has(key) || !(error > o.threshold)) continue;
      const cell = cellOf(m.proto, m.port, CHANNELS);
      const list = causes.get(r.id) ?? [];
      if (list.some((c) => c.cell === cell)) continue;
      list.push({ roundId: r.id, cell, port: m.port, proto: m.proto, occupied: false, expected: m.usual, error, owner: { pid: m.pid, exe: m.program.exe, process: m.program.name }, user: m.program.user });
      causes.set(r.id, list);
    }
  }
}

/**
 * The ports of an incident continued into a new hour: those it had keep their place and their
 * direction (what it began with stays its headline), the hour's new ones follow, and shares are
 * re-weighted by the rounds each part covers.
 */
export function mergePorts(earlier: readonly IncidentPortRow[], earlierRounds: number, now: readonly IncidentPortRow[], nowRounds: number): IncidentPortRow[] {
  const key = (p: IncidentPortRow) => `${p.proto}/${p.port}`;
  const fresh = new Map(now.map((p) => [key(p), p]));
  const weight = earlierRounds + nowRounds;
  const merged = earlier.map((p) => {
    const n = fresh.get(key(p));
    fresh.delete(key(p));
    const share = (p.share * earlierRounds + (n?.share ?? 0) * nowRounds) / weight;
    return n ? { ...p, share, pid: n.pid ?? p.pid, exe: n.exe ?? p.exe, process: n.process ?? p.process } : { ...p, share };
  });
  const added = [...fresh.values()].map((p) => ({ ...p, share: (p.share * nowRounds) / weight }));
  return [...merged, ...added].slice(0, MAX_INCIDENT_PORTS);
}
