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

/** Most cells above the threshold kept for one round: a burst of listeners is named whole up to this. */
export const MAX_TRIGGER_CELLS = 512;

/**
 * The `k` cells with the largest error in one round, from its logits, plus every cell whose error
 * is above `above` (up to MAX_TRIGGER_CELLS): those are the round's causes, and a burst of forty
 * new listeners must be explained by forty, not by the top ten.
 */
export function topCells(logits: ArrayLike<number>, active: ArrayLike<number>, cells: number, k: number, offset = 0, above = Infinity): CellError[] {
  const occupied = new Set<number>();
  for (let i = 0; i < active.length; i++) occupied.add(active[i]!);
  const best: CellError[] = [];
  const over: CellError[] = [];
  let floor = -Infinity;
  for (let c = 0; c < cells; c++) {
    const z = logits[offset + c]!;
    const occ = occupied.has(c);
    const error = occ ? softplus(-z) : softplus(z);
    if (error > above) {
      if (over.length < MAX_TRIGGER_CELLS) over.push(cellError(c, occ, z, error));
      continue;
    }
    // Cheap pre-filter: a cell whose error cannot beat the current k-th best is skipped.
    if (best.length >= k && error <= floor) continue;
    best.push(cellError(c, occ, z, error));
    best.sort((a, b) => b.error - a.error);
    if (best.length > k) best.pop();
    floor = best.length >= k ? best[best.length - 1]!.error : -Infinity;
  }
  return [...over, ...best].sort((a, b) => b.error - a.error).slice(0, Math.max(k, over.length));
}

function cellError(c: number, occupied: boolean, z: number, error: number): CellError {
  return { cell: c, port: Math.floor(c / CHANNELS), proto: c % CHANNELS === 0 ? 'tcp' : 'udp', occupied, expected: sigmoid(z), error };
}
