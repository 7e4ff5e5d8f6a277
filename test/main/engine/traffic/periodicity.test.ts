import { describe, expect, it } from 'vitest';
import { BURST_MS, FULL_GAPS, periodicity } from '../../../../src/main/engine/traffic/periodicity';
import { seededRandom } from '../../../../src/shared/random';

const T0 = Date.UTC(2026, 11, 7, 14, 2);

/** Arrivals every `period` ms, each sleep drawn evenly within ±jitter of it. */
function beacon(n: number, period: number, jitter: number, random: () => number): number[] {
  const times = [T0];
  for (let i = 1; i < n; i++) times.push(times[i - 1]! + period * (1 + jitter * (2 * random() - 1)));
  return times;
}

/** Arrivals at random (exponential gaps with the given mean). */
function poisson(n: number, mean: number, random: () => number): number[] {
  const times = [T0];
  for (let i = 1; i < n; i++) times.push(times[i - 1]! - mean * Math.log(1 - random()));
  return times;
}

describe('periodicity', () => {
  it('scores a metronome 1 and names its period', () => {
    expect(periodicity(beacon(30, 60_000, 0, Math.random))).toEqual({ score: 1, periodMs: 60_000, arrivals: 30 });
  });

  it('still scores a beacon with ±20 % jitter high, and arrivals at random low', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const jittered = periodicity(beacon(40, 60_000, 0.2, seededRandom(seed)));
      expect(jittered.score).toBeGreaterThan(0.7);
      expect(Math.abs(jittered.periodMs - 60_000)).toBeLessThan(6_000);
      expect(periodicity(poisson(40, 60_000, seededRandom(seed))).score).toBeLessThan(0.35);
    }
  });

  it('is not thrown by a missed check-in or a retry', () => {
    const times = beacon(30, 300_000, 0, Math.random).filter((_, i) => i !== 10);
    times.push(times[20]! + 5_000);
    expect(periodicity(times).score).toBeGreaterThan(0.9);
  });

  it('gives few arrivals little weight, and none below four', () => {
    expect(periodicity([T0, T0 + 60_000, T0 + 120_000]).score).toBe(0);
    expect(periodicity(beacon(5, 60_000, 0, Math.random)).score).toBeCloseTo(4 / FULL_GAPS);
    expect(periodicity(beacon(FULL_GAPS + 1, 60_000, 0, Math.random)).score).toBe(1);
  });

  it('counts a burst of connections opened together as one arrival', () => {
    const times = beacon(10, 60_000, 0, Math.random).flatMap((t) => [t, t + 10, t + BURST_MS - 1]);
    expect(periodicity(times)).toEqual({ score: 1, periodMs: 60_000, arrivals: 10 });
  });
});
