import * as tf from '../../../../src/main/engine/detect/tf';
import { describe, expect, it } from 'vitest';
import { selectDetectionBackend } from '../../../../src/main/engine/detect/backendChoice';
import { leanAdam } from '../../../../src/main/engine/detect/leanAdam';
import { buildModel, compileModel, DEFAULT_MODEL_CONFIG, batchTensors, makeBatch, weightedBce, type ModelConfig } from '../../../../src/main/engine/detect/model';
import { seededRounds } from './support/seededRounds';

const config: ModelConfig = { ...DEFAULT_MODEL_CONFIG, ports: 4096 };

const rounds = (n: number, seed: number) => seededRounds(n, seed, config.ports);

/** Weights after `steps` training steps from the same seed, with the given optimizer. */
async function trained(optimizer: () => tf.Optimizer, steps: number): Promise<Float32Array[]> {
  const model = buildModel(config, undefined, 7);
  model.compile({ optimizer: optimizer(), loss: weightedBce(config.positiveWeight) });
  const features = rounds(40, 3);
  for (let s = 0; s < steps; s++) {
    const wins = Array.from({ length: 6 }, (_, k) => Array.from({ length: 5 }, (_, j) => (s * 6 + k + j) % 35));
    const { x, y } = batchTensors(makeBatch(features, wins, config), config);
    await model.trainOnBatch(x, y);
    tf.dispose([...x, y]);
  }
  const out = model.getWeights().map((w) => w.dataSync() as Float32Array).map((d) => Float32Array.from(d));
  model.optimizer?.dispose();
  model.dispose();
  return out;
}

describe('LeanAdam', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`trains to bit-identical weights with tf.train.adam on ${backend}, with fewer tensors alive at its peak`, async () => {
      if (backend === 'wasm') await selectDetectionBackend('wasm');
      else await tf.setBackend('cpu');
      const stock = await trained(() => tf.train.adam(config.learningRate), 5);
      const lean = await trained(() => leanAdam(config.learningRate), 5);
      expect(lean.length).toBe(stock.length);
      for (let i = 0; i < stock.length; i++) expect(Buffer.from(lean[i]!.buffer).equals(Buffer.from(stock[i]!.buffer))).toBe(true);

      // One update of the decoder-sized variable: the stock optimizer keeps every intermediate.
      // Each update gets a gradient of its own, as in minimize: LeanAdam frees it once read.
      const peak = async (optimizer: tf.Optimizer) => {
        const v = tf.variable(tf.randomNormal([21, config.ports * 2], 0, 1, 'float32', 1));
        const gradient = (seed: number) => tf.randomNormal([21, config.ports * 2], 0, 1, 'float32', seed);
        const first = gradient(2);
        optimizer.applyGradients({ [v.name]: first });
        const g = gradient(3);
        const p = await tf.profile(() => optimizer.applyGradients({ [v.name]: g }));
        optimizer.dispose();
        tf.dispose([v, first, g]);
        return p.peakBytes;
      };
      const variableBytes = 21 * config.ports * 2 * 4;
      const stockPeak = await peak(tf.train.adam(0.01));
      const leanPeak = await peak(leanAdam(0.01));
      // LeanAdam frees the gradient once both moments have read it and replaces each moment in
      // place: ten tensors of the variable's size fewer than the stock optimizer at its peak.
      expect(leanPeak).toBeLessThan(stockPeak - 9 * variableBytes);
    });
  }

  it('is what the port model is compiled with', () => {
    const model = buildModel(config, undefined, 1);
    compileModel(model, config);
    expect(model.optimizer?.constructor.name).toBe('LeanAdam');
    model.optimizer?.dispose();
    model.dispose();
  });
});
