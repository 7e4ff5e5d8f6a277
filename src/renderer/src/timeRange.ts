/**
 * Time ranges of the port timeline: a preset relative to now ("the last 6 hours", which keeps
 * moving) or a fixed interval reached by zooming. Pure, so zoom arithmetic is tested alone.
 */
export const RANGE_PRESETS = {
  /** Everything recorded, up to a day: what a fresh install opens on (see fitRange). */
  fit: { label: 'Fit to data', ms: 24 * 3_600_000 },
  '1h': { label: 'Last hour', ms: 3_600_000 },
  '6h': { label: '6 hours', ms: 6 * 3_600_000 },
  '24h': { label: '24 hours', ms: 24 * 3_600_000 },
  '7d': { label: '7 days', ms: 7 * 86_400_000 },
  '30d': { label: '30 days', ms: 30 * 86_400_000 },
} as const;

export type RangeKey = keyof typeof RANGE_PRESETS;
export type Range = { last: RangeKey } | { from: number; to: number };
export interface Interval {
  from: number;
  to: number;
}

/** Narrower than this, a zoom stops: a minute round would fill the screen. */
export const MIN_SPAN_MS = 2 * 60_000;

export function isRangeKey(value: string): value is RangeKey {
  return Object.hasOwn(RANGE_PRESETS, value);
}

/** The least a fitted range spans, so a few minutes of data are not stretched across the screen. */
export const MIN_FIT_MS = 10 * 60_000;

/**
 * A range ending now that holds the data recorded since `firstAt`, up to `maxMs`: a fresh
 * install with twenty minutes of rounds opens on those twenty minutes (and a little before,
 * so the first round is not on the edge), not on a day squeezed into the right edge. Nothing
 * recorded yet: the last hour.
 */
export function fitRange(now: number, firstAt: number | null, maxMs: number): Interval {
  if (firstAt === null || firstAt >= now) return { from: now - Math.min(maxMs, 3_600_000), to: now };
  const span = now - firstAt;
  if (span >= maxMs) return { from: now - maxMs, to: now };
  const padded = Math.max(MIN_FIT_MS, span + Math.max(60_000, span * 0.05));
  return { from: Math.round(now - Math.min(maxMs, padded)), to: now };
}

/** `firstAt`: the oldest round kept (status.firstRoundAt), which the fitted preset needs; unknown: a day. */
export function resolveRange(range: Range, now: number, firstAt?: number | null): Interval {
  if (!('last' in range)) return { from: range.from, to: range.to };
  if (range.last === 'fit' && firstAt !== undefined) return fitRange(now, firstAt, RANGE_PRESETS.fit.ms);
  return { from: now - RANGE_PRESETS[range.last].ms, to: now };
}

/**
 * The part of `interval` between two fractions of its width (a drag across the timeline), at
 * least MIN_SPAN_MS wide and whole milliseconds.
 */
export function narrow(interval: Interval, startFraction: number, endFraction: number): Interval {
  const clamp = (f: number) => Math.min(1, Math.max(0, f));
  const [a, b] = [clamp(startFraction), clamp(endFraction)].sort((x, y) => x - y) as [number, number];
  const span = interval.to - interval.from;
  const from = interval.from + a * span;
  const to = interval.from + b * span;
  if (to - from >= MIN_SPAN_MS) return { from: Math.round(from), to: Math.round(to) };
  const mid = (from + to) / 2;
  return { from: Math.round(mid - MIN_SPAN_MS / 2), to: Math.round(mid + MIN_SPAN_MS / 2) };
}

/** Zooms about the centre: factor < 1 narrows, > 1 widens; never ends after `now`. */
export function zoom(interval: Interval, factor: number, now: number): Interval {
  const span = Math.max(MIN_SPAN_MS, (interval.to - interval.from) * factor);
  const mid = (interval.from + interval.to) / 2;
  let to = Math.round(mid + span / 2);
  if (to > now) to = now;
  return { from: Math.max(0, Math.round(to - span)), to };
}

/** The preset whose span is this interval's, for labelling; null for a zoomed range. */
export function presetOf(range: Range): RangeKey | null {
  return 'last' in range ? range.last : null;
}
