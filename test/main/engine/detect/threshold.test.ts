import { describe, expect, it } from 'vitest';
import { calibrateThreshold, normalQuantile } from '../../../../src/main/engine/detect/threshold';
import { seededRandom } from '../../../../src/shared/random';

function logNormal(n: number, mu: number, sigma: number, random: () => number): number[] {
  return Array.from({ length: n }, () => Math.exp(mu + sigma * normalQuantile(Math.min(1 - 1e-12, Math.max(1e-12, random())))));
}

describe('calibrateThreshold', () => {
  it('knows the normal quantiles it extrapolates with', () => {
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

  it('never alerts on its own calibration data (empirical bound for heavy tails)', () => {
    const scores = [...Array.from({ length: 300 }, (_, i) => 1 + (i % 10) / 100), 40]; // one heavy outlier
    const t = calibrateThreshold(scores);
    expect(t.value).toBeGreaterThan(40);
    expect(t.method).toBe('empirical-max');
  });

  it('switches to the empirical quantile once there is enough data for it', () => {
    const random = seededRandom(5);
    const t = calibrateThreshold(logNormal(20_000, 0, 1, random), { budget: 1 / 1440, floor: 0 });
    expect(['empirical-quantile', 'lognormal-tail']).toContain(t.method);
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
});
