import { describe, expect, it } from 'vitest';
import type { RecordingGap } from '../../src/shared/contract';
import { barAt, barsOf, gapAt, gapBuckets, gapReason } from '../../src/renderer/src/timelineBars';

const MIN = 60_000;

/** A timeline of `rounds.length` buckets of `bucketMs` from 0. */
function line(rounds: number[], bucketMs: number, gaps: RecordingGap[] = []) {
  return { from: 0, to: rounds.length * bucketMs, bucketMs, rounds, gaps };
}

describe('bars of the port history', () => {
  it('draws a port held in every round as one bar, even with buckets narrower than a round', () => {
    // 20-second buckets, a round every minute: two of three buckets hold no round.
    const rounds = Array.from({ length: 30 }, (_, b) => (b % 3 === 0 ? 1 : 0));
    const occupancy = rounds.map((n) => (n > 0 ? 1 : 0));
    expect(barsOf(occupancy, line(rounds, 20_000))).toEqual([{ from: 0, to: 30 * 20_000, share: 1 }]);
    // Held in the first five rounds only: the bar runs to the round that no longer saw it.
    const first = rounds.map((n, b) => (n > 0 && b < 15 ? 1 : 0));
    expect(barsOf(first, line(rounds, 20_000))).toEqual([{ from: 0, to: 15 * 20_000, share: 1 }]);
  });

  it('breaks the bar where a round saw the port closed', () => {
    const rounds = [1, 1, 1, 1, 1, 1];
    expect(barsOf([1, 1, 0, 1, 1, 0], line(rounds, MIN))).toEqual([
      { from: 0, to: 2 * MIN, share: 1 },
      { from: 3 * MIN, to: 5 * MIN, share: 1 },
    ]);
  });

  it('breaks the bar at a gap in recording and never draws over it', () => {
    const gaps: RecordingGap[] = [{ from: 3 * MIN + 30_000, to: 6 * MIN, reason: 'stopped', detail: null }];
    const rounds = [1, 1, 1, 1, 0, 0, 1, 1];
    const t = line(rounds, MIN, gaps);
    expect(gapBuckets(t)).toEqual([false, false, false, false, true, true, false, false]);
    // Held before and after the stop: two bars, the first ending where the gap begins.
    expect(barsOf([1, 1, 1, 1, 0, 0, 1, 1], t)).toEqual([
      { from: 0, to: 3 * MIN + 30_000, share: 1 },
      { from: 6 * MIN, to: 8 * MIN, share: 1 },
    ]);
  });

  it('splits a bar around a gap shorter than a bucket', () => {
    const gaps: RecordingGap[] = [{ from: 100, to: 200, reason: 'failed', detail: '1 round failed' }];
    expect(barsOf([1], line([5], 1000, gaps))).toEqual([
      { from: 0, to: 100, share: 1 },
      { from: 200, to: 1000, share: 1 },
    ]);
  });

  it('weighs the share of rounds held under a bar by the rounds of each bucket', () => {
    expect(barsOf([1, 0.5], line([2, 4], MIN))).toEqual([{ from: 0, to: 2 * MIN, share: 4 / 6 }]);
  });

  it('finds the bar and the gap under the pointer', () => {
    const bars = [
      { from: 0, to: 10, share: 1 },
      { from: 20, to: 30, share: 1 },
    ];
    expect(barAt(bars, 5)).toBe(bars[0]);
    expect(barAt(bars, 14)).toBeNull();
    expect(barAt(bars, 17, 4)).toBe(bars[1]);
    const gap: RecordingGap = { from: 10, to: 20, reason: 'paused', detail: null };
    expect(gapAt([gap], 15)).toBe(gap);
    expect(gapAt([gap], 20)).toBeNull();
    expect(gapReason(gap)).toBe('monitoring was paused');
    expect(gapReason({ ...gap, reason: 'failed', detail: '2 rounds failed: disk full' })).toBe('2 rounds failed: disk full');
  });
});
