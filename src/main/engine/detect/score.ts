import { CHANNELS } from './features';

/**
 * Reconstruction error. For cell c with decoder logit z and occupancy y, the error is the
 * binary cross-entropy −log p(y | z) = softplus(z) − y·z, in nats: how surprised the model is
 * by that port being open (or closed). A round's score is its largest cell error (computed on
 * the backend, see training.ts): one port the model was sure about is enough to stand out,
 * while the many small surprises of a normal login (several services appearing at once, each
 * at an expected time) do not add up to an alert.
 */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

export interface CellError {
  cell: number;
  port: number;
  proto: 'tcp' | 'udp';
  occupied: boolean;
  /** The model's probability that the cell is occupied. */
  expected: number;
  error: number;
}

/** The `k` cells with the largest error in one round, from its logits. */
export function topCells(logits: ArrayLike<number>, active: ArrayLike<number>, cells: number, k: number, offset = 0): CellError[] {
  const occupied = new Set<number>();
  for (let i = 0; i < active.length; i++) occupied.add(active[i]!);
  const best: CellError[] = [];
  let floor = -Infinity;
  for (let c = 0; c < cells; c++) {
    const z = logits[offset + c]!;
    const occ = occupied.has(c);
    // Cheap pre-filter: a cell whose error cannot beat the current k-th best is skipped.
    const error = occ ? softplus(-z) : softplus(z);
    if (best.length >= k && error <= floor) continue;
    best.push({ cell: c, port: Math.floor(c / CHANNELS), proto: c % CHANNELS === 0 ? 'tcp' : 'udp', occupied: occ, expected: sigmoid(z), error });
    best.sort((a, b) => b.error - a.error);
    if (best.length > k) best.pop();
    floor = best.length >= k ? best[best.length - 1]!.error : -Infinity;
  }
  return best;
}
