import { describe, expect, it } from 'vitest';
import { fitRange, MIN_FIT_MS, MIN_SPAN_MS, narrow, resolveRange, zoom } from '../../src/renderer/src/timeRange';

const H = 3_600_000;

describe('timeline ranges', () => {
  it('resolves a preset relative to now and a fixed range as itself', () => {
    expect(resolveRange({ last: '6h' }, 10 * H)).toEqual({ from: 4 * H, to: 10 * H });
    expect(resolveRange({ from: 1, to: 2 }, 10 * H)).toEqual({ from: 1, to: 2 });
  });

  it('narrows to the dragged part, whichever way the drag went', () => {
    const r = { from: 0, to: 10 * H };
    expect(narrow(r, 0.2, 0.5)).toEqual({ from: 2 * H, to: 5 * H });
    expect(narrow(r, 0.5, 0.2)).toEqual({ from: 2 * H, to: 5 * H });
    expect(narrow(r, -1, 2)).toEqual(r);
  });

  it('never narrows below the smallest span, keeping the drag centred', () => {
    const r = narrow({ from: 0, to: 10 * H }, 0.5, 0.5);
    expect(r.to - r.from).toBe(MIN_SPAN_MS);
    expect((r.from + r.to) / 2).toBe(5 * H);
  });

  it('zooms about the centre and never past now', () => {
    expect(zoom({ from: 0, to: 4 * H }, 0.5, 100 * H)).toEqual({ from: H, to: 3 * H });
    expect(zoom({ from: 8 * H, to: 10 * H }, 2, 10 * H)).toEqual({ from: 6 * H, to: 10 * H });
    const tiny = zoom({ from: 5 * H, to: 5 * H + 60_000 }, 0.1, 100 * H);
    expect(tiny.to - tiny.from).toBe(MIN_SPAN_MS);
  });
});

describe('a range fitted to the data', () => {
  it('opens a fresh install on what it recorded, not on a day squeezed to the right edge', () => {
    const now = 100 * H;
    // Twenty minutes of rounds: a little over twenty minutes shown.
    const r = fitRange(now, now - 20 * 60_000, 24 * H);
    expect(r.to).toBe(now);
    expect(now - r.from).toBeGreaterThan(20 * 60_000);
    expect(now - r.from).toBeLessThan(25 * 60_000);
    // Two minutes: the smallest fitted span; a week: the last day; nothing: the last hour.
    expect(fitRange(now, now - 2 * 60_000, 24 * H)).toEqual({ from: now - MIN_FIT_MS, to: now });
    expect(fitRange(now, now - 7 * 24 * H, 24 * H)).toEqual({ from: now - 24 * H, to: now });
    expect(fitRange(now, null, 24 * H)).toEqual({ from: now - H, to: now });
  });

  it('resolves the fitted preset from the oldest round, or as a day when that is unknown', () => {
    expect(resolveRange({ last: 'fit' }, 10 * H, 9 * H)).toEqual({ from: 10 * H - 63 * 60_000, to: 10 * H });
    expect(resolveRange({ last: 'fit' }, 30 * H)).toEqual({ from: 6 * H, to: 30 * H });
  });
});
