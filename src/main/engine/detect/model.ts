import * as tf from './tf';
import { leanAdam } from './leanAdam';
import { CHANNELS, CONTEXT_SIZE, FULL_PORTS, TARGET_TIME_SIZE, targetTime, type RoundFeatures } from './features';
import { OccupancyBlocks, recordOpenCells } from './occupancyBlocks';

/**
 * The CNN-LSTM autoencoder. Every choice is explained in docs/detection.md; in short:
 * a non-overlapping strided Conv1D compresses each round's 65,536 × 2 occupancy into blocks,
 * a second small conv mixes neighbouring blocks, a per-round Dense summarises the round, the
 * LSTM runs over the W rounds of the window (time), a 12-wide bottleneck squeezes it, and a
 * Dense layer with one weight row and one bias per (port, channel) reconstructs, at full
 * resolution, the round that follows the window (`target: 'next'`, the default) or the window's
 * own last round (`'last'`, a plain autoencoder, which copies a known port through whatever the
 * hour and so cannot see a service running at an unusual time).
 */
export interface ModelConfig {
  ports: number;
  window: number;
  blockSize: number;
  blockFilters: number;
  groupSize: number;
  groupFilters: number;
  roundUnits: number;
  lstmUnits: number;
  bottleneck: number;
  /** Weight of an occupied cell in the loss, against the ~1 : 2,600 imbalance. */
  positiveWeight: number;
  learningRate: number;
  target: 'next' | 'last';
}

export const DEFAULT_MODEL_CONFIG: ModelConfig = {
  ports: FULL_PORTS,
  window: 4,
  blockSize: 512,
  blockFilters: 8,
  groupSize: 8,
  groupFilters: 16,
  roundUnits: 32,
  lstmUnits: 32,
  bottleneck: 12,
  positiveWeight: 4,
  learningRate: 1e-2,
  target: 'next',
};

/** Rounds per window as windowsFor builds them: the W inputs, plus the target when it follows them. */
export function windowSpan(config: Pick<ModelConfig, 'window' | 'target'>): number {
  return config.target === 'next' ? config.window + 1 : config.window;
}

export function validateConfig(c: ModelConfig): void {
  if (c.ports % (c.blockSize * c.groupSize) !== 0) {
    throw new Error(`ports (${c.ports}) must be a multiple of blockSize × groupSize (${c.blockSize * c.groupSize})`);
  }
  if (c.window < 1) throw new Error('window must be at least 1');
}

/**
 * A Conv1D with kernel = stride (valid padding) over `length` positions of `channels`, computed as
 * what it is: a reshape to [blocks, kernel·channels] and a Dense shared by every block. Its weight
 * gradient is a plain matMul, so training needs no Conv2DBackpropFilter, a kernel the wasm backend
 * lacks (see docs/detection.md).
 */
function stridedConv(x: tf.SymbolicTensor, length: number, channels: number, kernel: number, filters: number, name: string, init: Initializers, onOccupancy = false): tf.SymbolicTensor {
  const blocks = tf.layers.reshape({ targetShape: [length / kernel, kernel * channels], name: `${name}_blocks` }).apply(x) as tf.SymbolicTensor;
  // Over the occupancy itself the Dense is OccupancyBlocks: the same layer, its kernel's gradient
  // summed over the open cells only (occupancyBlocks.ts).
  const layer = onOccupancy ? new OccupancyBlocks({ units: filters, name, kernelInitializer: init.glorot() }) : tf.layers.dense({ units: filters, activation: 'relu', name, kernelInitializer: init.glorot() });
  return layer.apply(blocks) as tf.SymbolicTensor;
}

type Initializer = ReturnType<typeof tf.initializers.glorotUniform>;
interface Initializers {
  glorot(): Initializer;
  normal(stddev: number): Initializer;
}

/**
 * Weight initialisers drawn from `seed`, each layer its own stream: with the same seed and the
 * same data a model is trained to the same weights on every run and every machine (the wasm and
 * cpu backends compute in a fixed order), so two runs give the same scores and incidents.
 */
function initializers(seed: number): Initializers {
  let next = seed >>> 0;
  return {
    glorot: () => tf.initializers.glorotUniform({ seed: next++ }),
    normal: (stddev) => tf.initializers.randomNormal({ mean: 0, stddev, seed: next++ }),
  };
}

/**
 * Builds the model. `seed` fixes its initial weights (the detector draws it from its random
 * source); `portPrior` starts the decoder biases at each cell's frequency.
 */
export function buildModel(config: ModelConfig, portPrior?: Float32Array, seed = 1): tf.LayersModel {
  validateConfig(config);
  const init = initializers(seed);
  const { ports, window: w } = config;
  const occupancy = tf.input({ shape: [w, ports, CHANNELS], name: 'occupancy' });
  const context = tf.input({ shape: [w, CONTEXT_SIZE], name: 'context' });
  const when = tf.input({ shape: [TARGET_TIME_SIZE], name: 'target_time' });
  // The W rounds laid end to end: kernel = stride, and ports is a multiple of it, so no block
  // ever straddles two rounds.
  let x = tf.layers.reshape({ targetShape: [w * ports, CHANNELS], name: 'rounds_end_to_end' }).apply(occupancy) as tf.SymbolicTensor;
  x = stridedConv(x, w * ports, CHANNELS, config.blockSize, config.blockFilters, 'block_conv', init, true);
  x = stridedConv(x, (w * ports) / config.blockSize, config.blockFilters, config.groupSize, config.groupFilters, 'group_conv', init);
  const perRound = (ports / (config.blockSize * config.groupSize)) * config.groupFilters;
  x = tf.layers.reshape({ targetShape: [w, perRound], name: 'per_round' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.timeDistributed({ layer: tf.layers.dense({ units: config.roundUnits, activation: 'relu', kernelInitializer: init.glorot() }), name: 'round_summary' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.concatenate({ name: 'with_time' }).apply([x, context]) as tf.SymbolicTensor;
  x = tf.layers.lstm({ units: config.lstmUnits, kernelInitializer: init.glorot(), recurrentInitializer: init.glorot(), name: 'over_time' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: config.bottleneck, activation: 'tanh', name: 'bottleneck', kernelInitializer: init.glorot() }).apply(x) as tf.SymbolicTensor;
  // The decoder also sees the target's hour and weekend flag directly: per port, a learned
  // hour-of-day profile, so a known service at an hour it never runs is a surprise.
  x = tf.layers.concatenate({ name: 'with_target_time' }).apply([x, when]) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({
      units: ports * CHANNELS,
      // Logits: the loss and the score take them directly, which is stabler and cheaper than
      // clipping probabilities (the clip's gradient was a fifth of a training step on wasm).
      activation: 'linear',
      name: 'per_port_decoder',
      kernelInitializer: init.normal(0.01),
    })
    .apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [occupancy, context, when], outputs: out, name: 'portent_cnn_lstm_ae' });
  if (portPrior) setDecoderBias(model, portPrior);
  return model;
}

/**
 * Starts each cell's bias at the logit of how often it was occupied in the first training data.
 * With Adam a bias moves about one learning rate per step, so from 0 it would take thousands of
 * steps to reach "port 22 is always open" or "port 4444 never is"; from the prior it starts there
 * and the latent only has to learn the deviations. Clamped to [1e-6, 1 − 1e-6]: a port never
 * seen is a ~14-nat surprise when it opens (an always-open one as much when it closes), well
 * above the ~7 nats of a normal once-a-day event such as a nightly job starting.
 */
export function setDecoderBias(model: tf.LayersModel, frequency: Float32Array): void {
  const layer = model.getLayer('per_port_decoder');
  const [kernel, bias] = layer.getWeights();
  if (!kernel || !bias || bias.size !== frequency.length) throw new Error('decoder bias does not match the prior');
  const logits = new Float32Array(frequency.length);
  for (let i = 0; i < frequency.length; i++) {
    const p = Math.min(1 - PRIOR_CLAMP, Math.max(PRIOR_CLAMP, frequency[i]!));
    logits[i] = Math.log(p / (1 - p));
  }
  const b = tf.tensor1d(logits);
  layer.setWeights([kernel, b]);
  b.dispose();
}

const PRIOR_CLAMP = 1e-6;

/** Per-cell occupancy frequency over some rounds (0 for never, 1 for always). */
export function occupancyFrequency(rounds: readonly RoundFeatures[], ports: number): Float32Array {
  const freq = new Float32Array(ports * CHANNELS);
  for (const r of rounds) for (const c of r.active) freq[c]! += 1;
  const n = Math.max(1, rounds.length);
  for (let i = 0; i < freq.length; i++) freq[i] = freq[i]! / n;
  return freq;
}

/**
 * Logits are clipped to ±14 (probabilities within [8e-7, 1 − 8e-7]) in the loss and in scoring.
 * Adam takes full-size steps on tiny but consistent gradients, so without a bound the logits of
 * never-seen ports (and of ports at hours they never occur) run away linearly, and a single
 * surprise grows to hundreds of nats (measured: the threshold climbed from 5 to 300 nats in four
 * simulated days). Clipped, the gradient stops at the bound, and no cell can cost more than 14
 * nats, so scores stay comparable across days.
 */
export const LOGIT_CAP = 14;

export function capLogits(logits: tf.Tensor): tf.Tensor {
  return tf.clipByValue(logits, -LOGIT_CAP, LOGIT_CAP);
}

/**
 * Binary cross-entropy on (capped) logits z, occupied cells weighted `positiveWeight` times:
 * w·y·softplus(−z) + (1−y)·softplus(z) = softplus(−z)·(1 + (w−1)·y) + (1−y)·z.
 *
 * The loss tfjs differentiates by itself: every op's output (nine [batch, 131,072] tensors) is
 * kept on the tape for the backward pass. The model trains with `fusedWeightedBce`, the same
 * loss with its gradient written out; this one is the reference the tests compare it with.
 */
export function weightedBce(positiveWeight: number) {
  return (yTrue: tf.Tensor, raw: tf.Tensor): tf.Tensor =>
    tf.tidy(() => {
      const logits = capLogits(raw);
      const sp = tf.softplus(tf.neg(logits));
      const weight = tf.add(1, tf.mul(yTrue, positiveWeight - 1));
      return tf.mean(tf.add(tf.mul(sp, weight), tf.mul(tf.sub(1, yTrue), logits)), -1);
    });
}

/**
 * `weightedBce` as one differentiable step: its value is computed a few tensors at a time and
 * only the target and the raw logits are kept for the backward pass, which computes the
 * gradient in closed form. For a cell with raw logit r, z = clip(r, ±14) and weight
 * c = 1 + (w−1)·y, the loss c·softplus(−z) + (1−y)·z has dL/dz = c·σ(z) − w·y (y is 0 or 1:
 * σ(z) for an empty cell, −w·σ(−z) for an occupied one), and the clip passes it on only where
 * |r| ≤ 14, as tfjs's clipByValue gradient does. The mean over the cells divides it by their
 * number. A refit's peak on the wasm heap was these tensors: the tape's nine, and as many
 * gradients of them in the backward pass (docs/detection.md, "Memory, third pass").
 */
export function fusedWeightedBce(positiveWeight: number) {
  const w = positiveWeight;
  /** One op's result, its inputs made in `f` freed at once (tidy), `drop` freed after. */
  const step = (f: () => tf.Tensor, ...drop: tf.Tensor[]): tf.Tensor => {
    const out = tf.tidy(f);
    tf.dispose(drop);
    return out;
  };
  const loss = tf.customGrad((yTrue, raw, save) => {
    const y = yTrue as tf.Tensor;
    const r = raw as tf.Tensor;
    (save as tf.GradSaveFunc)([y, r]);
    const z = capLogits(r);
    // softplus(−z) as −log σ(z): the same value within float32 rounding (the cap keeps σ(z) at
    // least 8·10⁻⁷), three times cheaper on wasm (7 ms against 21 for a batch of 6). Only the
    // reported loss reads it; the gradient below does not.
    const sp = step(() => tf.neg(tf.log(tf.sigmoid(z))));
    const weighted = step(() => tf.mul(sp, tf.add(1, tf.mul(y, w - 1))), sp);
    const rest = step(() => tf.mul(tf.sub(1, y), z), z);
    const value = step(() => tf.mean(tf.add(weighted, rest), -1), weighted, rest);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [ty, tr] = saved as [tf.Tensor, tf.Tensor];
        const cells = tr.shape[tr.shape.length - 1]!;
        const scaled = step(() => tf.mul(tf.sigmoid(capLogits(tr)), tf.add(1, tf.mul(ty, w - 1))));
        const dz = step(() => tf.sub(scaled, tf.mul(ty, w)), scaled);
        const perCell = step(() => tf.mul(dz, tf.div(tf.expandDims(dy, -1), cells)), dz);
        // Passed on where |r| ≤ 14 and 0 beyond, as by tfjs's clipByValue gradient, whose
        // where(greaterEqual ∧ lessEqual) costs ten times more on wasm than a 0/1 mask of
        // 1 − step(|r| − 14) (comparisons against a scalar take the backend's slow broadcast path).
        const dRaw = step(() => tf.mul(perCell, tf.sub(1, tf.step(tf.sub(tf.abs(tr), LOGIT_CAP)))), perCell);
        // The target is data, not a weight: nothing flows back to it.
        return [tf.zerosLike(ty), dRaw];
      },
    };
  });
  return (yTrue: tf.Tensor, raw: tf.Tensor): tf.Tensor => loss(yTrue, raw);
}

export function compileModel(model: tf.LayersModel, config: ModelConfig): void {
  // Adam with a lower peak and the same arithmetic (leanAdam.ts).
  model.compile({ optimizer: leanAdam(config.learningRate), loss: fusedWeightedBce(config.positiveWeight) });
}

/**
 * A batch of windows as tensors-to-be: occupancy [B, W, ports, 2], context [B, W, 5], target
 * time [B, 25], target [B, ports·2]; `open`, the occupancy's cells that are 1 (flat indices).
 */
export interface Batch {
  occupancy: Float32Array;
  open: number[];
  context: Float32Array;
  targetTime: Float32Array;
  target: Float32Array;
  size: number;
}

export function makeBatch(features: readonly RoundFeatures[], windows: readonly number[][], config: Pick<ModelConfig, 'ports' | 'window' | 'target'>, reuse?: Batch): Batch {
  const { ports, window: w } = config;
  const cells = ports * CHANNELS;
  const b = windows.length;
  const batch =
    reuse && reuse.occupancy.length >= b * w * cells
      ? reuse
      : { occupancy: new Float32Array(b * w * cells), open: [], context: new Float32Array(b * w * CONTEXT_SIZE), targetTime: new Float32Array(b * TARGET_TIME_SIZE), target: new Float32Array(b * cells), size: b };
  batch.size = b;
  batch.open.length = 0;
  batch.occupancy.fill(0, 0, b * w * cells);
  batch.target.fill(0, 0, b * cells);
  windows.forEach((win, i) => {
    const inputs = config.target === 'next' ? win.slice(0, w) : win;
    inputs.forEach((idx, k) => {
      const f = features[idx]!;
      const base = (i * w + k) * cells;
      for (const c of f.active) {
        if (batch.occupancy[base + c] === 1) continue;
        batch.occupancy[base + c] = 1;
        batch.open.push(base + c);
      }
      batch.context.set(f.context, (i * w + k) * CONTEXT_SIZE);
    });
    const last = features[win[win.length - 1]!]!;
    targetTime(last.startedAt, batch.targetTime, i * TARGET_TIME_SIZE);
    for (const c of last.active) batch.target[i * cells + c] = 1;
  });
  return batch;
}

export function batchTensors(batch: Batch, config: ModelConfig): { x: tf.Tensor[]; y: tf.Tensor } {
  const { size: b, window: w } = { size: batch.size, window: config.window };
  const cells = config.ports * CHANNELS;
  const occupancy = tf.tensor4d(batch.occupancy.subarray(0, b * w * cells), [b, w, config.ports, CHANNELS]);
  recordOpenCells(occupancy, Int32Array.from(batch.open));
  return {
    x: [
      occupancy,
      tf.tensor3d(batch.context.subarray(0, b * w * CONTEXT_SIZE), [b, w, CONTEXT_SIZE]),
      tf.tensor2d(batch.targetTime.subarray(0, b * TARGET_TIME_SIZE), [b, TARGET_TIME_SIZE]),
    ],
    y: tf.tensor2d(batch.target.subarray(0, b * cells), [b, cells]),
  };
}
