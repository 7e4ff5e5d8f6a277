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
}

export interface Threshold {
  value: number;
  /** Which bound decided: the log-normal tail fit or the empirical one. */
  method: 'lognormal-tail' | 'empirical-max' | 'empirical-quantile' | 'floor' | 'ceiling';
  location: number;
  scale: number;
  samples: number;
}

export const DEFAULT_BUDGET = 1 / 1440;

/** Standard normal quantile (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

function quantileSorted(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Threshold = the larger of
 *  - a log-normal tail: exp(median + z·σ) of the log-scores, σ from the median absolute
 *    deviation (robust to the few odd rounds any history has), z the normal quantile of the
 *    budget; and
 *  - an empirical bound: the calibration maximum (or, with at least 3/budget scores, the
 *    empirical 1 − budget quantile) times `margin`.
 * The fit extrapolates where a few hundred rounds cannot show a 1-in-1440 quantile; the
 * empirical bound catches tails heavier than log-normal; `floor` is an absolute minimum. Then
 * divided by `sensitivity`.
 */
export function calibrateThreshold(scores: readonly number[], options: ThresholdOptions = {}): Threshold {
  const budget = options.budget ?? DEFAULT_BUDGET;
  const sensitivity = options.sensitivity ?? 1;
  const margin = options.margin ?? 1.1;
  if (!(budget > 0 && budget < 1)) throw new Error(`budget must be in (0, 1), got ${budget}`);
  if (!(sensitivity > 0)) throw new Error(`sensitivity must be positive, got ${sensitivity}`);
  const finite = scores.filter((s) => Number.isFinite(s) && s >= 0);
  if (finite.length < 2) throw new Error(`calibrating a threshold needs at least 2 scores, got ${finite.length}`);
  const sorted = [...finite].sort((x, y) => x - y);
  const logs = sorted.map((s) => Math.log(s + 1e-9));
  const location = quantileSorted(logs, 0.5);
  const mad = quantileSorted([...logs.map((l) => Math.abs(l - location))].sort((x, y) => x - y), 0.5);
  // A floor on the spread: identical scores would otherwise give a threshold a hair above them.
  const scale = Math.max(1.4826 * mad, 0.05);
  const tail = Math.exp(location + normalQuantile(1 - budget) * scale);
  const enough = sorted.length * budget >= 3;
  const empirical = (enough ? quantileSorted(sorted, 1 - budget) : sorted[sorted.length - 1]!) * margin;
  const floor = options.floor ?? Math.log(20);
  const ceiling = options.ceiling ?? Infinity;
  const raw = Math.max(tail, empirical, floor);
  const value = Math.min(raw, ceiling) / sensitivity;
  const method = raw > ceiling ? 'ceiling' : floor >= Math.max(tail, empirical) ? 'floor' : tail >= empirical ? 'lognormal-tail' : enough ? 'empirical-quantile' : 'empirical-max';
  return { value, method, location, scale, samples: sorted.length };
}
