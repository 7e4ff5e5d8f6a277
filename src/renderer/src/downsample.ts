/**
 * Reducing series to what fits on screen. A timeline may hold more buckets than a canvas has
 * pixel columns, and a score series more points than a chart can show; these keep what matters
 * (any occupancy, every peak) rather than averaging it away.
 */

/** Splits `values` into `n` runs of nearly equal length and keeps each run's maximum. */
export function maxPool(values: readonly number[], n: number): number[] {
  if (n <= 0) return [];
  if (values.length <= n) return [...values];
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const start = Math.floor((i * values.length) / n);
    const end = Math.floor(((i + 1) * values.length) / n);
    let m = -Infinity;
    for (let j = start; j < end; j++) m = Math.max(m, values[j]!);
    out[i] = m;
  }
  return out;
}

/**
 * Keeps, for each of about maxPoints/2 runs, the smallest and largest point in their original
 * order (plus the first and last points), so a line drawn from the result has the same peaks
 * and troughs as the full series.
 */
export function minMaxDecimate(xs: readonly number[], ys: readonly number[], maxPoints: number): { xs: number[]; ys: number[] } {
  const len = Math.min(xs.length, ys.length);
  if (len <= maxPoints || maxPoints < 4) return { xs: xs.slice(0, len), ys: ys.slice(0, len) };
  const runs = Math.floor((maxPoints - 2) / 2);
  const keep = new Set<number>([0, len - 1]);
  for (let r = 0; r < runs; r++) {
    const start = 1 + Math.floor((r * (len - 2)) / runs);
    const end = 1 + Math.floor(((r + 1) * (len - 2)) / runs);
    let lo = start;
    let hi = start;
    for (let j = start; j < end; j++) {
      if (ys[j]! < ys[lo]!) lo = j;
      if (ys[j]! > ys[hi]!) hi = j;
    }
    if (end > start) {
      keep.add(lo);
      keep.add(hi);
    }
  }
  const idx = [...keep].sort((a, b) => a - b);
  return { xs: idx.map((i) => xs[i]!), ys: idx.map((i) => ys[i]!) };
}

/** The timeline row to draw at a vertical pixel offset, or null outside the rows. */
export function rowAt(y: number, rowHeight: number, rows: number): number | null {
  const i = Math.floor(y / rowHeight);
  return y >= 0 && i < rows ? i : null;
}
