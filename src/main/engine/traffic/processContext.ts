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
 * remote ports are here (portRarity.ts), and how far its bytes out to newly reached hosts stand
 * above the process's own usual (`recent_bytes_above_usual`, below).
 */
export const DETECTOR_FEATURES = ['rare_remote_port_share', 'recent_bytes_above_usual'] as const;

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
  /** Mean and variance of the scaled bytes out to remote ends reached within the hour (bytes_out_recent). */
  recent: { mean: number; variance: number };
}

export type Habits = Record<string, ProcessHabit>;

export const habitKey = (processId: number | null) => (processId === null ? 'host' : String(processId));

/** Whether stored habits have the right shape (they come from the model file). */
export function isHabits(v: unknown): v is Habits {
  if (typeof v !== 'object' || v === null) return false;
  return Object.values(v).every((h) => {
    const x = h as Partial<ProcessHabit>;
    const finite = (m: unknown) => typeof m === 'number' && Number.isFinite(m);
    return (
      typeof x.n === 'number' && x.n >= 0 && Array.isArray(x.mean) && x.mean.length === USUAL.length && x.mean.every(finite) &&
      typeof x.recent === 'object' && x.recent !== null && finite(x.recent.mean) && finite(x.recent.variance) && x.recent.variance >= 0
    );
  });
}

/**
 * Bytes out to remote ends the process first reached within the hour, against the same
 * process's usual, in its own spreads: a z-score of the scaled (logarithmic) value, counted only
 * upwards, capped at Z_CAP and divided by it; 0 for a process seen for less than an hour of
 * windows.
 *
 * Why: exfiltration sends much more than usual to a destination the program has just started
 * using. A browser does that all day (every page is a new host), a sync client or a chat client
 * almost never (it talks to its own servers). `bytes_out_recent` alone cannot tell them apart for
 * an autoencoder: across all programs it moves with `bytes_out`, the browser's pattern, and the
 * model reconstructs it as such whatever the process's context says. Against the process's own
 * spread it can: the browser's is wide, the sync client's about nil. The spread is at least
 * MIN_SPREAD (a factor of about 2.7 in bytes), so a few more bytes to a new host is not news.
 */
const Z_CAP = 8;
const MIN_SPREAD = 0.04;

export function recentBytesAboveUsual(features: Float32Array, habit: ProcessHabit | undefined): number {
  if (!habit || habit.n < SEEN_CAP) return 0;
  const spread = Math.max(MIN_SPREAD, Math.sqrt(habit.recent.variance));
  const z = (features[FEATURE_INDEX.bytes_out_recent]! - habit.recent.mean) / spread;
  return Math.min(Z_CAP, Math.max(0, z)) / Z_CAP;
}

/** The window's features, the detector's (the rare-port share given, the rest from the habit), then its process's context, as the model takes them. */
export function withContext(features: Float32Array, habit: ProcessHabit | undefined, rarePortShare = 0): Float32Array {
  const out = new Float32Array(MODEL_FEATURES.length);
  out.set(features.subarray(0, TRAFFIC_FEATURES.length));
  out[TRAFFIC_FEATURES.length] = rarePortShare;
  out[TRAFFIC_FEATURES.length + 1] = recentBytesAboveUsual(features, habit);
  const at = SCORED_FEATURES.length;
  out[at] = habit ? Math.min(1, habit.n / SEEN_CAP) : 0;
  USUAL.forEach((_, k) => (out[at + 1 + k] = habit ? habit.mean[k]! : 0));
  return out;
}

/** Learns one window of a process into its habit (in place). */
export function learnHabit(habits: Habits, processId: number | null, features: Float32Array): void {
  const key = habitKey(processId);
  const h = (habits[key] ??= { n: 0, mean: USUAL.map(() => 0), recent: { mean: 0, variance: 0 } });
  h.n += 1;
  const rate = Math.max(1 / h.n, 1 - Math.pow(0.5, 1 / HALF_LIFE_WINDOWS));
  USUAL.forEach((f, k) => (h.mean[k] = h.mean[k]! + rate * (features[FEATURE_INDEX[f]]! - h.mean[k]!)));
  // Exponentially weighted mean and variance (with rate 1/n: the running mean and the population variance).
  const d = features[FEATURE_INDEX.bytes_out_recent]! - h.recent.mean;
  h.recent.mean += rate * d;
  h.recent.variance = (1 - rate) * (h.recent.variance + rate * d * d);
}
