import { describe, expect, it } from 'vitest';
import { MIN_SPAN_MS, narrow, resolveRange, zoom } from '../../src/renderer/src/timeRange';

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
