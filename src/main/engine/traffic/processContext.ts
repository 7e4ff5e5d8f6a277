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

/** Features the detector adds to the window's own (portRarity.ts), reconstructed like them. */
export const DETECTOR_FEATURES = ['rare_remote_port_share'] as const;

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
}

export type Habits = Record<string, ProcessHabit>;

export const habitKey = (processId: number | null) => (processId === null ? 'host' : String(processId));

/** Whether stored habits have the right shape (they come from the model file). */
export function isHabits(v: unknown): v is Habits {
  if (typeof v !== 'object' || v === null) return false;
  return Object.values(v).every((h) => {
    const x = h as Partial<ProcessHabit>;
    return typeof x.n === 'number' && x.n >= 0 && Array.isArray(x.mean) && x.mean.length === USUAL.length && x.mean.every((m) => typeof m === 'number' && Number.isFinite(m));
  });
}

/** The window's features, the detector's (the rare-port share), then its process's context, as the model takes them. */
export function withContext(features: Float32Array, habit: ProcessHabit | undefined, rarePortShare = 0): Float32Array {
  const out = new Float32Array(MODEL_FEATURES.length);
  out.set(features.subarray(0, TRAFFIC_FEATURES.length));
  out[TRAFFIC_FEATURES.length] = rarePortShare;
  const at = SCORED_FEATURES.length;
  out[at] = habit ? Math.min(1, habit.n / SEEN_CAP) : 0;
  USUAL.forEach((_, k) => (out[at + 1 + k] = habit ? habit.mean[k]! : 0));
  return out;
}

/** Learns one window of a process into its habit (in place). */
export function learnHabit(habits: Habits, processId: number | null, features: Float32Array): void {
  const key = habitKey(processId);
  const h = (habits[key] ??= { n: 0, mean: USUAL.map(() => 0) });
  h.n += 1;
  const rate = Math.max(1 / h.n, 1 - Math.pow(0.5, 1 / HALF_LIFE_WINDOWS));
  USUAL.forEach((f, k) => (h.mean[k] = h.mean[k]! + rate * (features[FEATURE_INDEX[f]]! - h.mean[k]!)));
}
