/**
 * The alert threshold, calibrated on scores of normal (training) rounds, never on the batch
 * being scored. Pure: no I/O, no tensors.
 */
export interface ThresholdOptions {
  /**
   * Allowed false alarms per round. Default 1/1440: about one a day at one round a minute.
   * Incident merging makes this conservative: neighbouring anomalous rounds become one alert.
   */
  budget?: number;
  /** > 1 alerts more readily (threshold divided by it), < 1 less. */
  sensitivity?: number;
  /**
   * Factor over the largest calibration score (or the empirical quantile when there are enough
   * scores): a normal round's score must never have been an alert.
   */
  margin?: number;
  /**
   * Lowest threshold, in nats: never alert on a port state the model gave at least e^−floor
   * chance (default ln 20 ≈ 3.0, i.e. 5 %). Scores are absolute surprises; on a very regular
   * machine every normal score is tiny and a purely relative threshold would alert on noise.
   */
  floor?: number;
  /**
   * Highest threshold (before sensitivity): with scores bounded by the model (14 nats per cell),
   * a threshold at or above the bound would make Portent blind; an outright impossibility must
   * always alert. Default: no ceiling.
   */
  ceiling?: number;
  /**
   * Scores at or above this are left out as suspect, and the tail is fitted as an exponential
   * truncated there (see `truncatedScale`). The detector passes a share of the threshold in
   * force: a round that scored just under it (a near miss, perhaps an anomaly the model did not
   * flag) is evidence of nothing normal, and counted as normal it would raise the threshold,
   * which lets the next near miss through, which raises it again. Default: no truncation.
   */
  truncateAt?: number;
}

export interface Threshold {
  value: number;
  /** Which bound decided: the exponential tail fit, the empirical one, the floor or the ceiling. */
  method: 'exponential-tail' | 'empirical-max' | 'empirical-quantile' | 'floor' | 'ceiling';
  /** Where the fitted tail starts (the 1 − q quantile), in nats. */
  location: number;
  /** The tail's mean excess over `location`, in nats. */
  scale: number;
  samples: number;
  /** Scores left out because they reached `truncateAt`. */
  suspect: number;
}

export const DEFAULT_BUDGET = 1 / 1440;

function quantileSorted(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Share of the largest calibration scores the exponential tail is fitted to. */
const TAIL_SHARE = 0.05;
/** Smallest tail scale, in nats: identical scores would otherwise get a threshold a hair above them. */
const MIN_SCALE = 0.05;
/** The fewest scores above the tail's start the fit uses (more than TAIL_SHARE of small pools). */
const MIN_EXCEEDANCES = 10;

/**
 * Threshold = the larger of
 *  - an exponential tail fitted to the largest scores (peaks over a threshold): u is the
 *    (1 − q) quantile, β the mean excess of the scores above u, and the threshold is where the
 *    fitted tail q·exp(−(s − u)/β) falls to the budget: u + β·ln(q / budget). Scores are
 *    surprises in nats, −log p of the least likely cell: for a model that is right about how
 *    often things happen, P(surprise > s) falls like e^−s, so the tail is exponential in nats
 *    and its scale β is measured, not assumed. Only the top of the distribution is fitted:
 *    how close to zero the quiet rounds are says nothing about how often a normal round is
 *    surprising (a log-normal fit to all the scores took its spread from the quiet rounds and
 *    put the threshold at 11–12 nats while no normal round had scored above 3.6);
 *  - an empirical bound: the calibration maximum (or, with at least 3/budget scores, the
 *    empirical 1 − budget quantile) times `margin`, so no normal round seen would have alerted.
 * Then at least `floor`, at most `ceiling`, divided by `sensitivity`.
 */
export function calibrateThreshold(scores: readonly number[], options: ThresholdOptions = {}): Threshold {
  const budget = options.budget ?? DEFAULT_BUDGET;
  const sensitivity = options.sensitivity ?? 1;
  const margin = options.margin ?? 1.1;
  if (!(budget > 0 && budget < 1)) throw new Error(`budget must be in (0, 1), got ${budget}`);
  if (!(sensitivity > 0)) throw new Error(`sensitivity must be positive, got ${sensitivity}`);
  const finite = scores.filter((s) => Number.isFinite(s) && s >= 0);
  const truncateAt = options.truncateAt ?? Infinity;
  if (!(truncateAt > 0)) throw new Error(`truncateAt must be positive, got ${truncateAt}`);
  const kept = finite.filter((s) => s < truncateAt);
  if (kept.length < 2) throw new Error(`calibrating a threshold needs at least 2 scores, got ${kept.length}`);
  const sorted = [...kept].sort((x, y) => x - y);
  const n = sorted.length;
  const share = Math.min(0.5, Math.max(TAIL_SHARE, MIN_EXCEEDANCES / n));
  const location = quantileSorted(sorted, 1 - share);
  const excess = sorted.filter((s) => s > location).map((s) => s - location);
  // The mean excess of k scores is uncertain by about 1/√k of itself; its upper one-sigma bound
  // keeps a small pool from underestimating the tail.
  const k = excess.length;
  const meanExcess = k > 0 ? excess.reduce((a, b) => a + b, 0) / k : 0;
  const fitted = Number.isFinite(truncateAt) ? truncatedScale(meanExcess, truncateAt - location) : meanExcess;
  const scale = Math.max(MIN_SCALE, k > 1 ? fitted / (1 - 1 / Math.sqrt(k)) : 0);
  const tail = location + scale * Math.log(Math.max(1, share / budget));
  const enough = n * budget >= 3;
  const empirical = (enough ? quantileSorted(sorted, 1 - budget) : sorted[n - 1]!) * margin;
  const floor = options.floor ?? Math.log(20);
  const ceiling = options.ceiling ?? Infinity;
  const raw = Math.max(tail, empirical, floor);
  const value = Math.min(raw, ceiling) / sensitivity;
  const method = raw > ceiling ? 'ceiling' : floor >= Math.max(tail, empirical) ? 'floor' : tail >= empirical ? 'exponential-tail' : enough ? 'empirical-quantile' : 'empirical-max';
  return { value, method, location, scale, samples: n, suspect: finite.length - kept.length };
}

/**
 * The scale β of an exponential tail seen only below a truncation point, L above the tail's
 * start, from the mean m of the excesses seen: the maximum-likelihood β solves
 * m = β − L / (e^(L/β) − 1), the mean of an exponential cut off at L, which rises from 0 to L/2
 * as β grows, so bisection finds it. Without the correction the cut would make the tail look
 * lighter than it is and the threshold would sink a little at every recalibration. When the
 * excesses fill the interval evenly (m ≥ L/2) nothing below the cut shows a decay; β is then
 * taken as L, which puts the threshold well above the cut.
 */
export function truncatedScale(meanExcess: number, limit: number): number {
  if (!(limit > 0) || !(meanExcess > 0)) return meanExcess;
  const meanAt = (beta: number) => beta - limit / Math.expm1(limit / beta);
  if (meanExcess >= 0.999 * (limit / 2)) return Math.max(meanExcess, limit);
  let lo = meanExcess; // β ≥ m always: the cut only lowers the mean.
  let hi = lo;
  while (meanAt(hi) < meanExcess && hi < 1e6) hi *= 2;
  for (let i = 0; i < 100 && hi - lo > 1e-9 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (meanAt(mid) < meanExcess) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
