import { describe, expect, it } from 'vitest';
import { maxPool, minMaxDecimate, rowAt } from '../../src/renderer/src/downsample';

describe('downsampling for drawing', () => {
  it('keeps any occupancy when pooling buckets into pixel columns', () => {
    expect(maxPool([0, 0, 0.2, 0, 0, 0, 0, 1], 4)).toEqual([0, 0.2, 0, 1]);
    expect(maxPool([0.5, 0.1], 4)).toEqual([0.5, 0.1]);
    expect(maxPool([1, 2, 3], 0)).toEqual([]);
    // Uneven splits cover every value exactly once.
    expect(maxPool([1, 0, 0, 0, 0, 0, 0, 0, 0, 3], 3)).toEqual([1, 0, 3]);
  });

  it('keeps every peak and trough, in order, when decimating a line', () => {
    const xs = Array.from({ length: 1000 }, (_, i) => i);
    const ys = xs.map((i) => (i === 500 ? 99 : i === 700 ? -5 : Math.sin(i / 50)));
    const d = minMaxDecimate(xs, ys, 100);
    expect(d.xs.length).toBeLessThanOrEqual(100);
    expect(d.xs[0]).toBe(0);
    expect(d.xs.at(-1)).toBe(999);
    expect(d.ys).toContain(99);
    expect(d.ys).toContain(-5);
    expect([...d.xs].sort((a, b) => a - b)).toEqual(d.xs);
  });

  it('leaves short series alone', () => {
    expect(minMaxDecimate([1, 2, 3], [4, 5, 6], 10)).toEqual({ xs: [1, 2, 3], ys: [4, 5, 6] });
  });

  it('finds the row under a pointer', () => {
    expect(rowAt(0, 20, 3)).toBe(0);
    expect(rowAt(59, 20, 3)).toBe(2);
    expect(rowAt(60, 20, 3)).toBeNull();
    expect(rowAt(-1, 20, 3)).toBeNull();
  });
});
