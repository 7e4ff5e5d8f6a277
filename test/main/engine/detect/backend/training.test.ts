import * as tf from '../../../../../src/main/engine/detect/tf';
import { describe, expect, it } from 'vitest';
import { selectDetectionBackend } from '../../../../../src/main/engine/detect/backendChoice';
import { CONTEXT_SIZE, type RoundFeatures } from '../../../../../src/main/engine/detect/features';
import { batchTensors, buildModel, DEFAULT_MODEL_CONFIG, makeBatch, weightedBce, windowSpan } from '../../../../../src/main/engine/detect/model';

/**
 * The shipped model, at full size, trains on the stock wasm and cpu kernels: its strided
 * convolutions are a reshape and a shared Dense, so no Conv2DBackpropFilter (which wasm lacks)
 * and no ResizeNearestNeighborGrad (wrong on cpu in tfjs 4.22) is ever asked for.
 */
const config = DEFAULT_MODEL_CONFIG;
const T0 = new Date(2026, 2, 2, 9, 0).getTime();

function rounds(n: number): RoundFeatures[] {
  // sshd and a resolver always, a dev server in every other round, one high listener now and then.
  return Array.from({ length: n }, (_, i) => {
    const ports = [22 * 2, 53 * 2 + 1, ...(i % 2 === 0 ? [3000 * 2] : []), ...(i % 3 === 0 ? [41_000 * 2] : [])];
    return { roundId: i + 1, startedAt: T0 + i * 60_000, active: Int32Array.from(ports.sort((a, b) => a - b)), ephemeralUdp: i % 4, context: new Float32Array(CONTEXT_SIZE).fill(0.1 * (i % 5)) };
  });
}

const features = rounds(8);
const span = windowSpan(config);
const windows = [0, 1, 2].map((s) => Array.from({ length: span }, (_, k) => s + k));

/** One training step from `initial` weights on `backend`: the update to every weight and the kernels it ran. */
async function stepOn(backend: 'wasm' | 'cpu', initial: Float32Array[] | null): Promise<{ initial: Float32Array[]; update: Float32Array[]; loss: number; kernels: Set<string> }> {
  expect((await selectDetectionBackend(backend)).name).toBe(backend);
  const model = buildModel(config);
  if (initial) model.setWeights(model.getWeights().map((w, i) => tf.tensor(initial[i]!, w.shape)));
  // The shipped loss; plain SGD rather than Adam, so the update is the gradient itself (Adam's
  // first step is ±learningRate wherever the gradient is not zero, which hides its size).
  model.compile({ optimizer: tf.train.sgd(1), loss: weightedBce(config.positiveWeight) });
  const before = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
  const { x, y } = batchTensors(makeBatch(features, windows, config), config);
  let loss = NaN;
  const profile = await tf.profile(async () => {
    loss = (await model.trainOnBatch(x, y)) as number;
  });
  const update = model.getWeights().map((w, i) => Float32Array.from(w.dataSync(), (v, j) => v - before[i]![j]!));
  tf.dispose([...x, y]);
  model.dispose();
  return { initial: before, update, loss, kernels: new Set(profile.kernels.map((k) => k.name)) };
}

function maxRelativeError(actual: Float32Array, expected: Float32Array): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / (scale || 1));
  return worst;
}

describe('training the shipped model on the stock tfjs kernels', () => {
  it('takes the same step on wasm and on cpu, without Conv2DBackpropFilter or ResizeNearestNeighborGrad', async () => {
    const wasm = await stepOn('wasm', null);
    const cpu = await stepOn('cpu', wasm.initial);
    for (const run of [wasm, cpu]) {
      expect(Number.isFinite(run.loss)).toBe(true);
      expect(run.kernels.has('BatchMatMul') || run.kernels.has('_FusedMatMul')).toBe(true);
      expect(run.kernels.has('Conv2DBackpropFilter')).toBe(false);
      expect(run.kernels.has('ResizeNearestNeighborGrad')).toBe(false);
    }
    // Not registered at all: the wasm step above ran on the backend as tfjs ships it.
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(cpu.loss).toBeCloseTo(wasm.loss, 4);
    expect(cpu.update).toHaveLength(wasm.update.length);
    // The update, not the new weights, which dwarf one step's change.
    for (let i = 0; i < wasm.update.length; i++) {
      // Every weight, the front's block Dense included, got a gradient, and the same on both.
      expect(wasm.update[i]!.some((v) => v !== 0)).toBe(true);
      expect(maxRelativeError(wasm.update[i]!, cpu.update[i]!)).toBeLessThan(1e-3);
    }
  });
});
