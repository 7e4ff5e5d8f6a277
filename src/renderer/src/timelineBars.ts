import type { RecordingGap, Timeline } from '../../shared/contract';

/**
 * From the timeline's buckets to what is drawn: one bar per stretch a port was held, however
 * many rounds or buckets it spans, and the stretches Portent was not recording apart from it.
 * A bucket narrower than a round can hold no round at all without being a gap (the next round
 * is simply not due yet): such a bucket continues a bar rather than breaking it into ticks.
 */

export interface Bar {
  from: number;
  to: number;
  /** Of the rounds recorded inside the bar, the share in which the port was held (0..1). */
  share: number;
}

/** Whether each bucket lies in a recording gap (no round in it, and the engine found a gap there). */
export function gapBuckets(timeline: Pick<Timeline, 'from' | 'bucketMs' | 'rounds' | 'gaps'>): boolean[] {
  const { from, bucketMs, rounds, gaps } = timeline;
  return rounds.map((n, b) => {
    if (n > 0) return false;
    const start = from + b * bucketMs;
    const end = start + bucketMs;
    return gaps.some((g) => g.from < end && g.to > start);
  });
}

/** `bar` without the parts that fall in a gap (a gap inside it splits it). */
function withoutGaps(bar: Bar, gaps: readonly RecordingGap[]): Bar[] {
  let pieces = [bar];
  for (const g of gaps) {
    pieces = pieces.flatMap((p) => {
      if (g.to <= p.from || g.from >= p.to) return [p];
      const out: Bar[] = [];
      if (g.from > p.from) out.push({ ...p, to: g.from });
      if (g.to < p.to) out.push({ ...p, from: g.to });
      return out;
    });
  }
  return pieces;
}

/**
 * The bars of one port: runs of buckets in which it was held, continued across buckets that
 * hold no round but lie in no gap, broken by a bucket whose rounds did not see it and by gaps.
 */
export function barsOf(occupancy: readonly number[], timeline: Pick<Timeline, 'from' | 'to' | 'bucketMs' | 'rounds' | 'gaps'>, inGap = gapBuckets(timeline)): Bar[] {
  const { from, to, bucketMs, rounds } = timeline;
  const bars: Bar[] = [];
  let start = -1;
  let sum = 0;
  let recorded = 0;
  // A bar runs on to the next round that did not see the port (the last round that did stands
  // for the time until then), or to where recording stopped.
  const close = (end: number) => {
    if (start < 0) return;
    const bar = { from: from + start * bucketMs, to: Math.min(to, end), share: recorded === 0 ? 1 : sum / recorded };
    bars.push(...withoutGaps(bar, timeline.gaps));
    start = -1;
  };
  for (let b = 0; b < occupancy.length; b++) {
    const held = (occupancy[b] ?? 0) > 0;
    const bucketStart = from + b * bucketMs;
    if (held) {
      if (start < 0) {
        start = b;
        sum = 0;
        recorded = 0;
      }
      sum += occupancy[b]! * rounds[b]!;
      recorded += rounds[b]!;
    } else if (rounds[b]! > 0) close(bucketStart);
    else if (inGap[b]) {
      const gapStart = Math.min(...timeline.gaps.filter((g) => g.from < bucketStart + bucketMs && g.to > bucketStart).map((g) => g.from));
      close(Math.max(bucketStart, gapStart));
    }
  }
  close(from + occupancy.length * bucketMs);
  return bars;
}

/** The bar of `bars` under time `t`, allowing `slack` ms either side (a thin bar is hard to hit). */
export function barAt(bars: readonly Bar[], t: number, slack = 0): Bar | null {
  let best: Bar | null = null;
  let bestDistance = Infinity;
  for (const bar of bars) {
    const distance = t < bar.from ? bar.from - t : t > bar.to ? t - bar.to : 0;
    if (distance <= slack && distance < bestDistance) {
      best = bar;
      bestDistance = distance;
    }
  }
  return best;
}

export function gapAt(gaps: readonly RecordingGap[], t: number): RecordingGap | null {
  return gaps.find((g) => t >= g.from && t < g.to) ?? null;
}

/** Why Portent was not recording, in words. */
export function gapReason(gap: RecordingGap): string {
  switch (gap.reason) {
    case 'failed':
      return gap.detail ?? 'rounds failed';
    case 'paused':
      return 'monitoring was paused';
    case 'stopped':
      return 'Portent was not running';
    case 'no-history':
      return 'before the oldest round recorded';
    case 'unknown':
      return 'no rounds (Portent was stopped or paused, or the computer was asleep)';
  }
}
