/**
 * Which rounds make up the window that scores each round. A window is the W rounds ending at the
 * scored round; a gap in time (the machine slept, Portent was stopped) is never bridged: the
 * rounds before the gap are replaced by the first round after it, as if the machine had been in
 * that state all along. Otherwise waking up would look like a sudden change it never was.
 */
export interface TimedRound {
  startedAt: number;
}

/**
 * For each of `rounds` (sorted by time) from index `from`, the indices of its window, oldest
 * first. `maxStepMs` is the longest step between consecutive rounds still counted as
 * consecutive.
 */
export function windowsFor(rounds: readonly TimedRound[], window: number, maxStepMs: number, from = 0): number[][] {
  const out: number[][] = [];
  let segmentStart = 0;
  for (let i = 1; i <= Math.min(from, rounds.length - 1); i++) {
    if (rounds[i]!.startedAt - rounds[i - 1]!.startedAt > maxStepMs) segmentStart = i;
  }
  for (let i = from; i < rounds.length; i++) {
    if (i > 0 && i > from && rounds[i]!.startedAt - rounds[i - 1]!.startedAt > maxStepMs) segmentStart = i;
    const w: number[] = [];
    for (let k = window - 1; k >= 0; k--) w.push(Math.max(segmentStart, i - k));
    out.push(w);
  }
  return out;
}
