import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../../../src/main/engine/detect/backend/selectBackend';
import { binaryValues, maxRelativeError, randomValues } from './helpers';

const LENGTH = 256;

/**
 * A miniature of the detector's autoencoder with every layer type it may use: strided 'same'
 * conv1d, max and average pooling, dropout, LSTM, dense, and a decoder built from upSampling2d,
 * conv2dTranspose and conv1d (tfjs-layers has no upSampling1d or conv1dTranspose).
 */
function buildModel(withDropout: boolean): tf.LayersModel {
  let seed = 1;
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  const inp = tf.input({ shape: [LENGTH, 1] });
  let h = tf.layers.conv1d({ filters: 8, kernelSize: 8, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init() }).apply(inp) as tf.SymbolicTensor;
  h = tf.layers.maxPooling1d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.averagePooling1d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.conv1d({ filters: 8, kernelSize: 4, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: init() }).apply(h) as tf.SymbolicTensor;
  if (withDropout) h = tf.layers.dropout({ rate: 0.05, seed: 7 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers
    .lstm({
      units: 8,
      returnSequences: true,
      dropout: withDropout ? 0.2 : 0,
      kernelInitializer: init(),
      recurrentInitializer: tf.initializers.orthogonal({ seed: seed++ }),
    })
    .apply(h) as tf.SymbolicTensor;
  h = tf.layers.dense({ units: 4, activation: 'tanh', kernelInitializer: init() }).apply(h) as tf.SymbolicTensor;
  const steps = h.shape[1]!;
  h = tf.layers.reshape({ targetShape: [1, steps, 4] }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.upSampling2d({ size: [1, 4] }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.conv2dTranspose({ filters: 4, kernelSize: [1, 4], strides: [1, 4], padding: 'same', activation: 'tanh', kernelInitializer: init() }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.reshape({ targetShape: [LENGTH, 4] }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.conv1d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid', kernelInitializer: init() }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: inp, outputs: out });
}

function occupancyBatch(n: number): tf.Tensor3D {
  return tf.tensor3d(binaryValues(n * LENGTH, 0.05, 11), [n, LENGTH, 1]);
}

describe('training a conv1d autoencoder on the wasm backend', () => {
  beforeAll(async () => {
    expect((await initBackend('wasm')).name).toBe('wasm');
  });

  it('fits for 2 epochs with a decreasing loss, using the custom kernel', async () => {
    const model = buildModel(true);
    model.compile({ optimizer: tf.train.adam(1e-2), loss: 'meanSquaredLogarithmicError' });
    const xs = occupancyBatch(16);
    let losses: number[] = [];
    const profile = await tf.profile(async () => {
      const history = await model.fit(xs, xs, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
      losses = history.history['loss'] as number[];
    });
    expect(tf.getBackend()).toBe('wasm');
    expect(losses).toHaveLength(2);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[1]!).toBeLessThan(losses[0]!);
    const kernels = new Set(profile.kernels.map((k) => k.name));
    expect(kernels.has('Conv2DBackpropFilter')).toBe(true);
    tf.dispose(xs);
    model.dispose();
  });

  it('takes the same training step as the cpu backend', async () => {
    // Initial weights are copied from one model to the other: the orthogonal initializer's QR
    // runs on the active backend and would already differ in rounding.
    let initial: Array<{ values: Float32Array; shape: number[] }> | null = null;
    const stepOn = async (backend: 'cpu' | 'wasm'): Promise<Float32Array[]> => {
      expect((await initBackend(backend)).name).toBe(backend);
      const model = buildModel(false);
      if (initial == null) initial = model.getWeights().map((w) => ({ values: Float32Array.from(w.dataSync()), shape: w.shape }));
      else model.setWeights(initial.map((w) => tf.tensor(w.values, w.shape)));
      model.compile({ optimizer: tf.train.sgd(0.5), loss: 'meanSquaredError' });
      // Continuous values: 0/1 input makes max-pooling windows tie, and cpu and wasm then route
      // the gradient to different (equally valid) winners.
      const xs = tf.tensor3d(randomValues(4 * LENGTH, 12).map(Math.abs), [4, LENGTH, 1]);
      const before = model.getWeights().map((w) => Float32Array.from(w.dataSync()));
      await model.trainOnBatch(xs, xs);
      // The update, not the new weights: the weights dwarf one step's change.
      const weights = model.getWeights().map((w, i) => Float32Array.from(w.dataSync(), (v, j) => v - before[i]![j]!));
      tf.dispose(xs);
      model.dispose();
      return weights;
    };
    const cpu = await stepOn('cpu');
    const wasm = await stepOn('wasm');
    expect(wasm).toHaveLength(cpu.length);
    for (let i = 0; i < cpu.length; i++) expect(maxRelativeError(wasm[i]!, cpu[i]!)).toBeLessThan(1e-4);
  });
});
