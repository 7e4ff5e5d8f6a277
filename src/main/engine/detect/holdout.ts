/**
 * The hold-out: one round in eight, chosen by its id, is never a training target. Early stopping
 * and the alert threshold are measured on these rounds only, so the threshold comes from scores
 * of rounds the model has never learned, not from replayed rounds an earlier refit trained on
 * (whose scores flatter the model and pull the threshold down).
 *
 * The choice is a hash of the round id (Fibonacci hashing, top three bits of id · 2^32/φ), not
 * of its time: it is the same on every run and every machine, spreads evenly over hours and
 * days, and does not fall into step with a job that runs every 8 or 10 minutes, as `id % 8`
 * would.
 */
export const HOLDOUT_SHARE = 1 / 8;

export function isHeldOut(roundId: number): boolean {
  return Math.imul(roundId, 0x9e3779b1) >>> 29 === 0;
}
