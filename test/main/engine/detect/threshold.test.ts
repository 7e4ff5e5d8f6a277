import { describe, expect, it } from 'vitest';
import { calibrateThreshold, truncatedScale } from '../../../../src/main/engine/detect/threshold';
import { seededRandom } from '../../../../src/shared/random';

/** Standard normal quantile, to draw log-normal test scores (Acklam's rational approximation, |error| < 1.2e-9). */
function normalQuantile(p: number): number {
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

function logNormal(n: number, mu: number, sigma: number, random: () => number): number[] {
  return Array.from({ length: n }, () => Math.exp(mu + sigma * normalQuantile(Math.min(1 - 1e-12, Math.max(1e-12, random())))));
}

describe('calibrateThreshold', () => {
  it('draws its log-normal test data from correct normal quantiles', () => {
    expect(normalQuantile(0.5)).toBeCloseTo(0, 8);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(1 - 1 / 1440)).toBeCloseTo(3.194, 2);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 5);
  });

  it('holds the false-alarm budget on fresh normal rounds when only a few hundred were seen', () => {
    const random = seededRandom(3);
    const training = logNormal(360, 1, 0.4, random);
    const t = calibrateThreshold(training, { floor: 0 });
    // 1,440,000 new normal rounds from the same distribution: about 1,000 days.
    let alarms = 0;
    for (const s of logNormal(1_440_000, 1, 0.4, random)) if (s > t.value) alarms++;
    expect(alarms / 1000).toBeLessThanOrEqual(1.2); // ≤ ~1 a day
    expect(alarms).toBeGreaterThan(0); // and it is not simply infinitely high
    expect(t.samples).toBe(360);
  });

  it('takes its tail from the largest scores, not from how close to zero the quiet rounds are', () => {
    // Most normal rounds are near-certain (scores spread over decades just above zero), a few
    // are ordinary transitions of 2-3.5 nats: the threshold belongs a few nats above those.
    const random = seededRandom(9);
    const quiet = Array.from({ length: 850 }, () => 0.01 * Math.exp(4 * random()));
    const transitions = Array.from({ length: 50 }, () => 2 + 1.5 * random());
    const t = calibrateThreshold([...quiet, ...transitions]);
    expect(t.method).toBe('exponential-tail');
    expect(t.value).toBeGreaterThan(3.5 * 1.1);
    expect(t.value).toBeLessThan(7);
  });

  it('never alerts on its own calibration data (empirical bound for heavy tails)', () => {
    const scores = [...Array.from({ length: 300 }, (_, i) => 1 + (i % 10) / 100), 40]; // one heavy outlier
    const t = calibrateThreshold(scores);
    expect(t.value).toBeGreaterThan(40);
    expect(t.method).toBe('empirical-max');
  });

  it('switches to the empirical quantile once there is enough data for it', () => {
    const random = seededRandom(5);
    const t = calibrateThreshold(logNormal(20_000, 0, 1, random), { budget: 1 / 1440, floor: 0 });
    expect(['empirical-quantile', 'exponential-tail']).toContain(t.method);
    expect(t.value).toBeGreaterThan(Math.exp(3));
  });

  it('scales with sensitivity and rejects what it cannot calibrate on', () => {
    const scores = [1, 2, 3, 4, 5, 6];
    const base = calibrateThreshold(scores).value;
    expect(calibrateThreshold(scores, { sensitivity: 2 }).value).toBeCloseTo(base / 2, 10);
    expect(base).toBeGreaterThan(6);
    expect(() => calibrateThreshold([1])).toThrow(/at least 2/);
    expect(() => calibrateThreshold(scores, { budget: 0 })).toThrow(/budget/);
    expect(() => calibrateThreshold(scores, { sensitivity: 0 })).toThrow(/sensitivity/);
  });

  it('gives identical scores a threshold clearly above them', () => {
    expect(calibrateThreshold([2, 2, 2, 2], { floor: 0 }).value).toBeGreaterThan(2 * 1.1);
  });

  it('never rises to the largest possible score, so an impossibility always alerts', () => {
    const t = calibrateThreshold([10, 12, 14, 14, 13], { ceiling: 12.6 });
    expect(t).toMatchObject({ method: 'ceiling', value: 12.6 });
  });

  it('never goes below the absolute floor, however regular the machine', () => {
    const t = calibrateThreshold([0.001, 0.002, 0.0015, 0.001]);
    expect(t).toMatchObject({ method: 'floor' });
    expect(t.value).toBeCloseTo(Math.log(20), 10);
  });

  it('recovers the scale of an exponential tail seen only below a cut', () => {
    const random = seededRandom(21);
    for (const [beta, limit] of [[0.7, 2], [0.5, 3], [1.2, 1.5]] as const) {
      const seen: number[] = [];
      while (seen.length < 20_000) {
        const x = -beta * Math.log(1 - random());
        if (x < limit) seen.push(x);
      }
      const m = seen.reduce((a, b) => a + b, 0) / seen.length;
      expect(m).toBeLessThan(beta); // the cut makes the plain mean too small
      expect(truncatedScale(m, limit)).toBeCloseTo(beta, 1);
    }
    expect(truncatedScale(0.6, 1)).toBe(1); // nothing below the cut shows a decay
  });

  /**
   * A week of hourly recalibrations as the detector does them: the pool is the last 7 days of
   * rounds that scored under the threshold in force. Normal rounds: mostly near-certain, a tenth
   * ordinary transitions of 1.5 + Exp(0.6) nats. Once a day an anomaly the model did not catch
   * scores just under the threshold for 45 rounds (a known service at an unusual hour).
   */
  function week(truncate: boolean): { first: number; last: number; max: number } {
    const random = seededRandom(17);
    const normalScore = () => (random() < 0.9 ? 0.01 * Math.exp(4 * random()) : 1.5 - 0.6 * Math.log(1 - random()));
    const pool: number[][] = [];
    const options = (t: number | null) => ({ ceiling: 12.6, truncateAt: truncate && t !== null ? 0.8 * t : undefined });
    pool.push(Array.from({ length: 360 }, normalScore));
    let threshold = calibrateThreshold(pool.flat(), options(null)).value;
    const first = threshold;
    let max = threshold;
    for (let hour = 0; hour < 7 * 24; hour++) {
      const scores = Array.from({ length: 60 }, normalScore);
      if (hour % 24 === 22) for (let i = 0; i < 45; i++) scores[i] = threshold * (0.85 + 0.12 * random());
      pool.push(scores.filter((s) => s <= threshold));
      if (pool.length > 7 * 24) pool.shift();
      threshold = calibrateThreshold(pool.flat(), options(threshold)).value;
      max = Math.max(max, threshold);
    }
    return { first, last: threshold, max };
  }

  it('cannot be raised by near misses: truncated at a share of the threshold in force, it holds steady for a week', () => {
    // The normal scores' true 1-in-1440 quantile: 0.1·e^(−(s − 1.5)/0.6) = 1/1440.
    const truth = 1.5 + 0.6 * Math.log(144);
    const held = week(true);
    // The first calibration, on 360 scores, is cautious; more data brings it down, and the near
    // misses never push it up (without the cut, the same week ends at the 12.6 ceiling).
    expect(held.max).toBeLessThan(held.first * 1.1);
    expect(held.last).toBeGreaterThan(truth * 0.9);
    expect(held.last).toBeLessThan(truth * 1.2);
    // The same week counting near misses as normal: each one raises the threshold, which lets
    // the next one under it (the ratchet this option exists to stop).
    const ratchet = week(false);
    expect(ratchet.last).toBeGreaterThan(truth * 2);
  });

  it('leaves out what reached the cut, and says how many', () => {
    const t = calibrateThreshold([...Array.from({ length: 200 }, (_, i) => (i % 20) / 10), 5, 5.5, 6], { truncateAt: 4 });
    expect(t.suspect).toBe(3);
    expect(t.samples).toBe(200);
    expect(() => calibrateThreshold([1, 2], { truncateAt: 0 })).toThrow(/truncateAt/);
  });
});
