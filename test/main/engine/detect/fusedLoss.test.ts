import * as tf from '../../../../src/main/engine/detect/tf';
import { describe, expect, it } from 'vitest';
import { selectDetectionBackend } from '../../../../src/main/engine/detect/backendChoice';
import { leanAdam } from '../../../../src/main/engine/detect/leanAdam';
import { batchTensors, buildModel, compileModel, DEFAULT_MODEL_CONFIG, fusedWeightedBce, LOGIT_CAP, makeBatch, weightedBce, windowSpan } from '../../../../src/main/engine/detect/model';
import { seededRandom } from '../../../../src/shared/random';
import { seededRounds } from './support/seededRounds';

const W = DEFAULT_MODEL_CONFIG.positiveWeight;

/** Raw logits across and beyond the cap (the cap itself included), targets about 1 in 5 occupied. */
function sample(batch: number, cells: number, seed: number): { raw: tf.Tensor2D; y: tf.Tensor2D } {
  const random = seededRandom(seed);
  const raw = Float32Array.from({ length: batch * cells }, () => (random() - 0.5) * 2 * (LOGIT_CAP + 6));
  raw[0] = LOGIT_CAP;
  raw[1] = -LOGIT_CAP;
  raw[2] = LOGIT_CAP + 1e-3;
  raw[3] = 0;
  const y = Float32Array.from({ length: batch * cells }, () => (random() < 0.2 ? 1 : 0));
  return { raw: tf.tensor2d(raw, [batch, cells]), y: tf.tensor2d(y, [batch, cells]) };
}

/** The loss's value per window and its gradient with respect to the raw logits, each window's loss weighted differently. */
function valueAndGradient(loss: (y: tf.Tensor, raw: tf.Tensor) => tf.Tensor, y: tf.Tensor2D, raw: tf.Tensor2D): { value: Float32Array; gradient: Float32Array } {
  const perWindow = tf.tensor1d(Array.from({ length: raw.shape[0] }, (_, i) => 1 + i / 2));
  const value = loss(y, raw);
  const gradient = tf.grad((r: tf.Tensor) => tf.sum(tf.mul(loss(y, r), perWindow)))(raw);
  const out = { value: Float32Array.from(value.dataSync()), gradient: Float32Array.from(gradient.dataSync()) };
  tf.dispose([perWindow, value, gradient]);
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('the fused weighted cross-entropy', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`has the value and the gradient tfjs derives for the reference loss, clip included, on ${backend}`, async () => {
      if (backend === 'wasm') await selectDetectionBackend('wasm');
      else await tf.setBackend('cpu');
      const cells = 4096;
      const { raw, y } = sample(3, cells, 5);
      const reference = valueAndGradient(weightedBce(W), y, raw);
      const fused = valueAndGradient(fusedWeightedBce(W), y, raw);
      expect(maxAbsDiff(fused.value, reference.value)).toBeLessThan(1e-5);
      // Per-cell gradients are at most w / cells: compared on that scale.
      const scale = W / cells;
      expect(maxAbsDiff(fused.gradient, reference.gradient) / scale).toBeLessThan(1e-5);
      // Not trivially equal: some cells pass a gradient and the ones beyond the cap do not (a
      // masked cell may hold −0, which is no gradient either).
      const rawData = raw.dataSync();
      let passed = 0;
      for (let i = 0; i < rawData.length; i++) {
        if (Math.abs(rawData[i]!) > LOGIT_CAP) expect(Math.abs(fused.gradient[i]!)).toBe(0);
        else if (fused.gradient[i] !== 0) passed++;
      }
      expect(passed).toBeGreaterThan(cells);
      // At the cap itself the gradient still flows, as through tfjs's clipByValue.
      expect(fused.gradient[0]).not.toBe(0);
      expect(fused.gradient[1]).not.toBe(0);
      expect(Math.abs(fused.gradient[2]!)).toBe(0);
      tf.dispose([raw, y]);
    });
  }

  it('is what the port model trains with, and a training step at full size needs less memory than with the reference', async () => {
    await selectDetectionBackend('wasm');
    const config = DEFAULT_MODEL_CONFIG;
    const features = seededRounds(12, 3, config.ports);
    const windows = Array.from({ length: 6 }, (_, k) => Array.from({ length: windowSpan(config) }, (_, j) => k + j));
    const step = async (compile: (model: tf.LayersModel) => void) => {
      const model = buildModel(config, undefined, 7);
      compile(model);
      const { x, y } = batchTensors(makeBatch(features, windows, config), config);
      await model.trainOnBatch(x, y);
      let loss = NaN;
      const profile = await tf.profile(async () => {
        loss = (await model.trainOnBatch(x, y)) as number;
      });
      const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
      tf.dispose([...x, y]);
      model.optimizer?.dispose();
      model.dispose();
      return { peak: profile.peakBytes, loss, weights };
    };
    const reference = await step((m) => m.compile({ optimizer: leanAdam(config.learningRate), loss: weightedBce(config.positiveWeight) }));
    const shipped = await step((m) => compileModel(m, config));
    // The same training: the same loss, and after two steps of Adam the same weights but for rounding.
    expect(shipped.loss).toBeCloseTo(reference.loss, 5);
    for (let i = 0; i < reference.weights.length; i++) expect(maxAbsDiff(shipped.weights[i]!, reference.weights[i]!)).toBeLessThan(1e-4);
    // The tape no longer keeps the loss's intermediates: at batch 6, each is 6 × 131,072 floats.
    const perTensor = 6 * config.ports * 2 * 4;
    expect(shipped.peak).toBeLessThan(reference.peak - 4 * perTensor);
  });
});
