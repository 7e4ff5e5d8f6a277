import { FEATURE_INDEX, TRAFFIC_FEATURES, type TrafficFeature } from './featureVector';

/**
 * What each process usually does, beside each window it is scored on: the traffic model sees a
 * window of firefox and a window of a program that never talked before side by side, and "a new
 * host" means something else for each. GEE's windows are per source address and know nothing of
 * the source's past; a host monitor knows the process. So each row is scored with a few context
 * values from the process's own earlier normal windows: how many there were, and its usual share
 * of new remote ends, remote ends, openings, bytes out, periodicity and DNS lookups. A program
 * never seen (nc, a dropped binary) has none; a browser's usual share of new hosts is high.
 *
 * The context is a running mean over the first windows, then an exponential one with a half-life
 * of three days of ten-minute windows, so a process's habits can drift. It is updated only with
 * windows the model learns from (normal, or approved), after they are scored: an intrusion never
 * becomes a process's habit, and a window is never scored against itself.
 */
const USUAL: readonly TrafficFeature[] = ['new_for_process_share', 'endpoints', 'opened', 'bytes_out', 'periodicity', 'dns_lookups'];

export const CONTEXT_FEATURES = ['seen_windows', ...USUAL.map((f) => `usual_${f}`)] as const;

/**
 * Features the detector adds to the window's own, reconstructed like them: how rare the row's
 * remote ports are here (portRarity.ts), and how far its bytes out stand above the process's own
 * usual (`bytes_out_above_usual`, below).
 */
export const DETECTOR_FEATURES = ['rare_remote_port_share', 'bytes_out_above_usual'] as const;

/** What the model reconstructs: the window's features and the detector's. */
export const SCORED_FEATURES: readonly string[] = [...TRAFFIC_FEATURES, ...DETECTOR_FEATURES];

/** The model's whole input: the scored features, then the process's context. */
export const MODEL_FEATURES: readonly string[] = [...SCORED_FEATURES, ...CONTEXT_FEATURES];

/** Half-life of a habit, in windows (three days of ten-minute windows). */
const HALF_LIFE_WINDOWS = 3 * 144;
/**
 * Windows after which a process counts as known (`seen_windows` reaches 1): an hour of windows.
 * A count that kept growing for weeks would make every later window look new to the model.
 */
const SEEN_CAP = 6;

export interface ProcessHabit {
  n: number;
  mean: number[];
  /** Variance of each usual feature, kept the same way as the mean (bytes out's is what is read). */
  variance: number[];
}

export type Habits = Record<string, ProcessHabit>;

export const habitKey = (processId: number | null) => (processId === null ? 'host' : String(processId));

/** Whether stored habits have the right shape (they come from the model file). */
export function isHabits(v: unknown): v is Habits {
  if (typeof v !== 'object' || v === null) return false;
  return Object.values(v).every((h) => {
    const x = h as Partial<ProcessHabit>;
    const numbers = (a: unknown) => Array.isArray(a) && a.length === USUAL.length && a.every((m) => typeof m === 'number' && Number.isFinite(m));
    return typeof x.n === 'number' && x.n >= 0 && numbers(x.mean) && numbers(x.variance) && x.variance!.every((v) => v >= 0);
  });
}

/**
 * Bytes out of a window measured against the same process's usual, in its own spreads: a z-score
 * of the scaled (logarithmic) value, counted only upwards, capped at Z_CAP and divided by it.
 *
 * Why: the window's bytes out are scaled over twelve orders of magnitude and standardised over all
 * processes, so fifty times a steady program's usual upload moves its feature by about 0.15, less
 * than the spread between programs; the autoencoder sees that as small. Against the program's own
 * rhythm (a sync client that uploads a few kilobytes a window) the same move is many spreads. A
 * program that is bursty by nature (a browser, a backup tool) has a wide spread of its own and
 * gains little from it, as it should. The spread is at least MIN_SPREAD (a factor of about 2.7
 * in bytes), so a program that always sent exactly the same few packets is not called unusual for
 * sending a few more. A process seen for less than an hour of windows has no usual yet: 0.
 */
const Z_CAP = 8;
const MIN_SPREAD = 0.04;

export function bytesOutAboveUsual(features: Float32Array, habit: ProcessHabit | undefined): number {
  if (!habit || habit.n < SEEN_CAP) return 0;
  const k = USUAL.indexOf('bytes_out');
  const spread = Math.max(MIN_SPREAD, Math.sqrt(habit.variance[k]!));
  const z = (features[FEATURE_INDEX.bytes_out]! - habit.mean[k]!) / spread;
  return Math.min(Z_CAP, Math.max(0, z)) / Z_CAP;
}

/**
 * The window's features, the detector's (in DETECTOR_FEATURES order: the rare-port share given,
 * the rest from the habit), then its process's context, as the model takes them.
 */
export function withContext(features: Float32Array, habit: ProcessHabit | undefined, rarePortShare = 0): Float32Array {
  const out = new Float32Array(MODEL_FEATURES.length);
  out.set(features.subarray(0, TRAFFIC_FEATURES.length));
  out[TRAFFIC_FEATURES.length] = rarePortShare;
  out[TRAFFIC_FEATURES.length + 1] = bytesOutAboveUsual(features, habit);
  const at = SCORED_FEATURES.length;
  out[at] = habit ? Math.min(1, habit.n / SEEN_CAP) : 0;
  USUAL.forEach((_, k) => (out[at + 1 + k] = habit ? habit.mean[k]! : 0));
  return out;
}

/** Learns one window of a process into its habit (in place). */
export function learnHabit(habits: Habits, processId: number | null, features: Float32Array): void {
  const key = habitKey(processId);
  const h = (habits[key] ??= { n: 0, mean: USUAL.map(() => 0), variance: USUAL.map(() => 0) });
  h.n += 1;
  const rate = Math.max(1 / h.n, 1 - Math.pow(0.5, 1 / HALF_LIFE_WINDOWS));
  // The exponentially weighted mean and variance (with rate 1/n, the running mean and the
  // population variance of the first windows).
  USUAL.forEach((f, k) => {
    const d = features[FEATURE_INDEX[f]]! - h.mean[k]!;
    h.mean[k] = h.mean[k]! + rate * d;
    h.variance[k] = (1 - rate) * (h.variance[k]! + rate * d * d);
  });
}
