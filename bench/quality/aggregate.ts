import type { Metrics } from './evaluate';
import { KINDS, type IncidentKind } from './generator';

/**
 * Mean and spread over seeds of `bench/quality.ts` metrics. A value a seed does not have (a kind
 * it injected none of, a named recall of a detector that does not explain) is left out of that
 * statistic, and `n` says how many seeds it is over. `sd` is the sample standard deviation
 * (n − 1 in the denominator), 0 for a single seed.
 */
export interface Spread {
  mean: number | null;
  sd: number | null;
  min: number | null;
  max: number | null;
  n: number;
}

export interface MetricsSpread {
  precision: Spread;
  recall: Spread;
  f1: Spread;
  false_alerts_per_day: Spread;
  recall_by_kind: Record<IncidentKind, Spread>;
  named: Omit<MetricsSpread, 'named'> | null;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export function spread(values: readonly (number | null | undefined)[]): Spread {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return { mean: null, sd: null, min: null, max: null, n: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean: r3(mean), sd: r3(sd), min: r3(Math.min(...xs)), max: r3(Math.max(...xs)), n };
}

type Scores = Pick<Metrics, 'precision' | 'recall' | 'f1' | 'false_alerts_per_day' | 'recall_by_kind'>;

function spreadOfScores(list: readonly Scores[]): Omit<MetricsSpread, 'named'> {
  return {
    precision: spread(list.map((m) => m.precision)),
    recall: spread(list.map((m) => m.recall)),
    f1: spread(list.map((m) => m.f1)),
    false_alerts_per_day: spread(list.map((m) => m.false_alerts_per_day)),
    recall_by_kind: Object.fromEntries(KINDS.map((k) => [k, spread(list.map((m) => m.recall_by_kind[k]))])) as Record<IncidentKind, Spread>,
  };
}

export function spreadOfMetrics(list: readonly Metrics[]): MetricsSpread {
  const named = list.map((m) => m.named).filter((n) => n !== null);
  return { ...spreadOfScores(list), named: named.length === list.length && named.length > 0 ? spreadOfScores(named) : null };
}

/**
 * For each detector key present in every result, the spread of its metrics over the results;
 * the same for each block (`early`, `late`) present in every result.
 */
type Blocked<D extends string> = Record<D, Metrics> & { early?: Record<D, Metrics> & { days: string }; late?: Record<D, Metrics> & { days: string } };

export function summarize<D extends string>(results: readonly Blocked<D>[], detectors: readonly D[]): Record<string, unknown> {
  const of = (rows: readonly Record<D, Metrics>[]) => Object.fromEntries(detectors.map((d) => [d, spreadOfMetrics(rows.map((r) => r[d]))]));
  const out: Record<string, unknown> = { seeds: results.length, ...of(results) };
  for (const block of ['early', 'late'] as const) {
    const rows = results.map((r) => r[block]);
    if (rows.length && rows.every((b) => b !== undefined)) out[block] = { days: rows[0]!.days, ...of(rows as Record<D, Metrics>[]) };
  }
  return out;
}
