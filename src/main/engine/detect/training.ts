import * as tf from './tf';
import { CHANNELS, type RoundFeatures } from './features';
import { batchTensors, capLogits, LOGIT_CAP, makeBatch, type Batch, type ModelConfig } from './model';
import { topCells, type CellError } from './score';
import { LeanAdam } from './leanAdam';
import type { HourProfile } from './hourProfile';

import { CancelledError } from './cancelled';

export { CancelledError };

export interface Scored {
  /** The round's score: its largest per-cell error (see docs/detection.md, "Score"). */
  score: number;
  /** Sum of all per-cell errors: the reconstruction loss, used for early stopping. */
  total: number;
  cells?: CellError[];
}

/**
 * The logits a round is scored with: the model's, capped at ±LOGIT_CAP, and for the target
 * round's open ports within the hour-of-day profile's bounds at its time of day: no higher than
 * its ceiling where the port is rarely open then, no lower than its floor where it usually is
 * (hourProfile.ts). `targets`: the target round of each row of the batch.
 */
export function scoringLogits(model: tf.LayersModel, x: tf.Tensor[], targets: readonly Pick<RoundFeatures, 'startedAt' | 'active'>[], cells: number, profile?: HourProfile): tf.Tensor2D {
  return tf.tidy(() => {
    // execute, not predict: predict (and predictOnBatch) slice the inputs into batches first,
    // even into one, and that slice is a 12 MB copy of the occupancy on wasm (6 ms of a batch's 38).
    const logits = capLogits(model.execute(x, model.outputs[0]!.name) as tf.Tensor) as tf.Tensor2D;
    if (!profile || profile.empty) return logits;
    const ceilings = new Float32Array(targets.length * cells).fill(LOGIT_CAP);
    const floors = new Float32Array(targets.length * cells).fill(-LOGIT_CAP);
    let bounded = 0;
    targets.forEach((t, i) => (bounded += profile.write(t.startedAt, t.active, ceilings, i * cells, floors)));
    if (bounded === 0) return logits;
    const shape: [number, number] = [targets.length, cells];
    return tf.maximum(tf.minimum(logits, tf.tensor2d(ceilings, shape)), tf.tensor2d(floors, shape));
  });
}

/**
 * Scores windows in batches. `explain(i, score)` says whether window i's top cells are wanted
 * (only anomalous rounds need them; finding them reads all 131,072 logits); with `triggerAbove`,
 * every cell above it comes too.
 */
export async function scoreWindows(
  model: tf.LayersModel,
  config: ModelConfig,
  features: readonly RoundFeatures[],
  windows: readonly number[][],
  options: {
    batchSize?: number;
    explain?: (i: number, score: number) => boolean;
    topK?: number;
    triggerAbove?: number;
    shouldStop?: () => boolean;
    profile?: HourProfile;
    /** A batch buffer to fill instead of allocating one (a refit's, shared with its validation). */
    batch?: { reuse?: Batch };
  } = {},
): Promise<Scored[]> {
  const batchSize = options.batchSize ?? 6;
  const cells = config.ports * CHANNELS;
  const out: Scored[] = [];
  const shared = options.batch ?? {};
  for (let start = 0; start < windows.length; start += batchSize) {
    if (options.shouldStop?.()) throw new CancelledError();
    const wins = windows.slice(start, start + batchSize);
    const reuse = (shared.reuse = makeBatch(features, wins, config, shared.reuse));
    const { x, y } = batchTensors(reuse, config);
    const logits = scoringLogits(model, x, wins.map((win) => features[win[win.length - 1]!]!), cells, options.profile);
    // Per-cell error −log p(y|z) = softplus(z) − y·z.
    const [maxT, sumT] = tf.tidy(() => {
      const err = tf.sub(tf.softplus(logits), tf.mul(y, logits));
      return [tf.max(err, 1), tf.sum(err, 1)];
    });
    const [maxData, sumData] = await Promise.all([maxT.data() as Promise<Float32Array>, sumT.data() as Promise<Float32Array>]);
    for (let i = 0; i < wins.length; i++) {
      const win = wins[i]!;
      const target = features[win[win.length - 1]!]!;
      const scored: Scored = { score: maxData[i]!, total: sumData[i]! };
      if (options.explain?.(start + i, scored.score)) {
        const row = tf.slice(logits, [i, 0], [1, cells]);
        scored.cells = topCells(await row.data(), target.active, cells, options.topK ?? 10, 0, options.triggerAbove);
        row.dispose();
      }
      out.push(scored);
    }
    tf.dispose([...x, y, logits, maxT, sumT]);
  }
  return out;
}

export interface FitOptions {
  /**
   * Most epochs; with early stopping a fit does at most this much work and never depends on
   * how fast the machine is (a wall-clock budget would make a slower or busier machine learn
   * less and alert differently).
   */
  maxEpochs: number;
  batchSize?: number;
  /** Epochs without improvement of the validation score before stopping. */
  patience?: number;
  /**
   * Held-out windows for early stopping and threshold calibration, never trained on. The
   * detector passes the hold-out rounds (holdout.ts); without them nothing is held out and every
   * epoch's weights are kept.
   */
  validation?: readonly number[][];
  random?: () => number;
  shouldStop?: () => boolean;
  /** The hour-of-day profile held-out windows are scored with, as every round is. */
  profile?: HourProfile;
  /** A batch buffer to fill instead of allocating one (the one this run scored with). */
  batch?: { reuse?: Batch };
}

export interface FitResult {
  /**
   * valScore: mean reconstruction loss (summed per-cell error) of the held-out windows;
   * windows: how many windows the epoch trained on.
   */
  epochs: { loss: number; valScore: number; windows: number }[];
  /** Out-of-sample scores of the held-out windows under the kept weights. */
  validationScores: number[];
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/**
 * Trains on `windows`, stopping early on the validation windows. The weights of the best epoch
 * by validation score are kept, so a refit can never leave the model worse on held-out normal
 * data than it found it.
 */
export async function fit(model: tf.LayersModel, config: ModelConfig, features: readonly RoundFeatures[], windows: readonly number[][], options: FitOptions): Promise<FitResult> {
  const random = options.random ?? Math.random;
  const batchSize = options.batchSize ?? 6;
  const patience = options.patience ?? 1;
  const train = [...windows];
  const val = options.validation ?? [];
  const epochs: FitResult['epochs'] = [];
  // One batch buffer (16 MB at 65,536 ports and batch 6) for the training steps and every
  // validation pass, instead of a new one per pass; the caller's, when it scored with one.
  const shared: { reuse?: Batch } = options.batch ?? {};
  const valScores = async () => (val.length ? await scoreWindows(model, config, features, val, { batchSize, shouldStop: options.shouldStop, profile: options.profile, batch: shared }) : []);
  let bestScored = await valScores();
  let best = mean(bestScored.map((s) => s.total));
  // The best epoch's weights are kept as arrays, outside the backend: on wasm a copy kept there
  // would sit under every later training step's peak, and the wasm heap never shrinks.
  // A read of wasm (and of tfjs-node) is already a copy of the backend's memory; only the cpu
  // backend hands out its own array, which must not be kept as it is.
  const owned = tf.getBackend() === 'cpu';
  const copyWeights = () => model.getWeights().map((w) => ({ values: owned ? w.dataSync().slice() : w.dataSync(), shape: w.shape, dtype: w.dtype }));
  let bestWeights: ReturnType<typeof copyWeights> | null = val.length ? copyWeights() : null;
  let sinceBest = 0;
  // Each step's batch goes once its gradients are known, before the update's tensors (LeanAdam).
  const lean = model.optimizer instanceof LeanAdam ? model.optimizer : null;
  for (let epoch = 0; epoch < options.maxEpochs && train.length > 0; epoch++) {
    shuffle(train, random);
    const losses: number[] = [];
    for (let s = 0; s < train.length; s += batchSize) {
      if (options.shouldStop?.()) throw new CancelledError();
      shared.reuse = makeBatch(features, train.slice(s, s + batchSize), config, shared.reuse);
      const { x, y } = batchTensors(shared.reuse, config);
      if (lean) lean.onGradients = () => tf.dispose([...x, y]);
      let loss: number;
      try {
        loss = (await model.trainOnBatch(x, y)) as number;
      } finally {
        if (lean) lean.onGradients = null;
        tf.dispose([...x, y]);
      }
      losses.push(loss);
    }
    const scored = await valScores();
    const valScore = mean(scored.map((s) => s.total));
    epochs.push({ loss: mean(losses), valScore, windows: train.length });
    if (!val.length || valScore < best || !Number.isFinite(best)) {
      best = valScore;
      bestScored = scored;
      sinceBest = 0;
      bestWeights = val.length ? copyWeights() : null;
    } else if (++sinceBest >= patience) break;
  }
  if (bestWeights) {
    const tensors = bestWeights.map((w) => tf.tensor(w.values, w.shape, w.dtype));
    model.setWeights(tensors);
    tf.dispose(tensors);
  }
  return { epochs, validationScores: bestScored.map((s) => s.score) };
}
