/**
 * How regularly a process opens connections to one remote end: the beacon of a command-and-control
 * implant checks in every N seconds, a person or a browser does not. Pure, so it is tested on
 * made-up arrival times.
 *
 * The score looks only at the gaps between arrivals. With d the gaps, m their median and MAD the
 * median of |d - m|, regularity = 1 - 2·MAD/m (clamped to [0, 1]). Median and MAD rather than mean
 * and standard deviation (a coefficient of variation) because a beacon's record has outliers
 * that say nothing about its rhythm: a missed check-in doubles one gap, a retry halves one, and
 * one such gap in twenty moves a standard deviation a lot and a MAD hardly at all. Jitter
 * spreads the gaps around the period: a sleep drawn evenly within ±j of the period gives
 * MAD ≈ j/2·m, so ±20 % still scores 0.8. Arrivals at random (a Poisson process, exponential gaps) give
 * MAD/m ≈ 0.7 and score 0.
 *
 * Few gaps prove little (three gaps can be equal by chance), so the score is scaled by
 * min(1, gaps / FULL_GAPS). Arrivals closer than BURST_MS to the previous one are one burst (a
 * client opening several connections at once), not separate check-ins.
 */

/** Fewer arrivals than this score 0. */
export const MIN_ARRIVALS = 4;
/** Gaps at which the evidence counts in full. */
export const FULL_GAPS = 8;
/** Arrivals within this of the previous one belong to the same burst. */
export const BURST_MS = 2_000;

export interface Periodicity {
  /** 0 (no rhythm, or too few arrivals) to 1 (a metronome seen long enough). */
  score: number;
  /** The median gap, ms: the period a user is told ("every 60 s"). */
  periodMs: number;
  /** Arrivals counted, after merging bursts. */
  arrivals: number;
}

function median(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const mid = n >> 1;
  return n % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The periodicity of arrivals at the given times (ms, any order). */
export function periodicity(times: readonly number[]): Periodicity {
  const sorted = [...times].sort((a, b) => a - b);
  const arrivals: number[] = [];
  for (const t of sorted) {
    const last = arrivals[arrivals.length - 1];
    if (last === undefined || t - last >= BURST_MS) arrivals.push(t);
  }
  if (arrivals.length < MIN_ARRIVALS) return { score: 0, periodMs: 0, arrivals: arrivals.length };
  const gaps: number[] = [];
  for (let i = 1; i < arrivals.length; i++) gaps.push((arrivals[i] as number) - (arrivals[i - 1] as number));
  gaps.sort((a, b) => a - b);
  const m = median(gaps);
  const mad = median(gaps.map((g) => Math.abs(g - m)).sort((a, b) => a - b));
  const regularity = m > 0 ? Math.max(0, Math.min(1, 1 - (2 * mad) / m)) : 0;
  const confidence = Math.min(1, gaps.length / FULL_GAPS);
  return { score: regularity * confidence, periodMs: m, arrivals: arrivals.length };
}
