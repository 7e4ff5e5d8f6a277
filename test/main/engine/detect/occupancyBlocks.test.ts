import fs from 'node:fs';
import path from 'node:path';
import * as tf from '../../../../src/main/engine/detect/tf';
import { describe, expect, it } from 'vitest';
import { selectDetectionBackend } from '../../../../src/main/engine/detect/backendChoice';
import { batchTensors, buildModel, DEFAULT_MODEL_CONFIG, makeBatch, windowSpan, type ModelConfig } from '../../../../src/main/engine/detect/model';
import { loadModel, MODEL_FORMAT, MODEL_FORMAT_VERSION, saveModel, type ModelMeta } from '../../../../src/main/engine/detect/modelStore';
import { OccupancyBlocks, openCellsOf, recordOpenCells, sparseTransposedProduct } from '../../../../src/main/engine/detect/occupancyBlocks';
import { seededRandom } from '../../../../src/shared/random';
import { tempDir } from '../../../support/tmp';
import { SMALL } from './support';
import { seededRounds } from './support/seededRounds';

/** The same weights in a Dense with relu (the layer OccupancyBlocks replaces) and in an OccupancyBlocks. */
function twoLayers(inDim: number, units: number, seed: number): { dense: tf.layers.Layer; blocks: OccupancyBlocks } {
  const dense = tf.layers.dense({ units, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) });
  const blocks = new OccupancyBlocks({ units });
  dense.build([null, null, inDim]);
  blocks.build([null, null, inDim]);
  const random = seededRandom(seed);
  // A bias around zero, so that some outputs are cut by relu and some are not.
  const bias = tf.tensor1d(Float32Array.from({ length: units }, () => random() - 0.5));
  dense.setWeights([dense.getWeights()[0]!, bias]);
  blocks.setWeights(dense.getWeights());
  bias.dispose();
  return { dense, blocks };
}

/** Output and gradients of sum(output · r) with respect to the kernel and the bias. */
function outputAndGradients(layer: tf.layers.Layer, x: tf.Tensor, r: tf.Tensor): { out: Float32Array; kernel: Float32Array; bias: Float32Array } {
  const out = tf.tidy(() => (layer.apply(x) as tf.Tensor).dataSync().slice() as Float32Array);
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, r)) as tf.Scalar, layer.trainableWeights.map((w) => w.read() as tf.Variable));
  const [kernel, bias] = layer.trainableWeights.map((w) => grads[(w.read() as tf.Variable).name]!.dataSync().slice() as Float32Array);
  tf.dispose(Object.values(grads));
  return { out, kernel: kernel!, bias: bias! };
}

function worstRelative(got: Float32Array, want: Float32Array): number {
  let worst = 0;
  let largest = 1e-6;
  for (let i = 0; i < want.length; i++) {
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    largest = Math.max(largest, Math.abs(want[i]!));
  }
  return worst / largest;
}

/** Occupancy [batch, blocks, inDim] with about one cell in `sparsity` open, and its open cells. */
function occupancy(batch: number, blocks: number, inDim: number, sparsity: number, seed: number): { values: Float32Array; open: Int32Array; shape: number[] } {
  const random = seededRandom(seed);
  const values = new Float32Array(batch * blocks * inDim);
  const open: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (random() < 1 / sparsity) {
      values[i] = 1;
      open.push(i);
    }
  }
  return { values, open: Int32Array.from(open), shape: [batch, blocks, inDim] };
}

describe('the occupancy blocks layer', () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    it(`gives the output and gradients of a Dense with relu, from the recorded open cells or without them, on ${backend}`, async () => {
      if (backend === 'wasm') await selectDetectionBackend('wasm');
      else await tf.setBackend('cpu');
      const inDim = 256;
      const units = 8;
      const { dense, blocks } = twoLayers(inDim, units, 11);
      const occ = occupancy(3, 40, inDim, 30, 5);
      const random = seededRandom(9);
      const r = tf.tensor3d(Float32Array.from({ length: 3 * 40 * units }, () => random() * 2 - 1), [3, 40, units]);
      const recorded = tf.tensor3d(occ.values, occ.shape as [number, number, number]);
      recordOpenCells(recorded, occ.open);
      const unrecorded = tf.tensor3d(occ.values, occ.shape as [number, number, number]);
      const want = outputAndGradients(dense, unrecorded, r);
      for (const x of [recorded, unrecorded]) {
        const got = outputAndGradients(blocks, x, r);
        expect(worstRelative(got.out, want.out)).toBeLessThan(1e-6);
        expect(worstRelative(got.kernel, want.kernel)).toBeLessThan(1e-5);
        expect(worstRelative(got.bias, want.bias)).toBeLessThan(1e-5);
      }
      // Not trivially equal: relu cut some outputs, and the kernel's gradient is not all zeros.
      expect(want.out.some((v) => v === 0)).toBe(true);
      expect(want.out.some((v) => v > 0)).toBe(true);
      expect(want.kernel.filter((v) => v !== 0).length).toBeGreaterThan(inDim);
      tf.dispose([r, recorded, unrecorded]);
    });
  }

  it('takes the kernel gradient from the recorded cells, which batchTensors records for the occupancy it makes', async () => {
    await tf.setBackend('cpu');
    const inDim = 64;
    const { blocks } = twoLayers(inDim, 4, 3);
    const occ = occupancy(2, 10, inDim, 8, 2);
    const r = tf.ones([2, 10, 4]);
    const x = tf.tensor3d(occ.values, [2, 10, inDim]);
    // A record that leaves out half of the open cells changes the kernel's gradient: the record
    // is what is read, not the tensor's values.
    recordOpenCells(x, occ.open.filter((_, i) => i % 2 === 0));
    const half = outputAndGradients(blocks, x, r);
    recordOpenCells(x, occ.open);
    const whole = outputAndGradients(blocks, x, r);
    expect(worstRelative(half.kernel, whole.kernel)).toBeGreaterThan(0.1);
    expect(half.bias).toEqual(whole.bias);

    // batchTensors records exactly the occupancy's ones.
    const config: ModelConfig = { ...DEFAULT_MODEL_CONFIG, ...SMALL };
    const features = seededRounds(10, 4, config.ports);
    const windows = [0, 1, 2].map((k) => Array.from({ length: windowSpan(config) }, (_, j) => k + j));
    const batch = makeBatch(features, windows, config);
    const ones = batch.occupancy.reduce((n, v) => n + v, 0);
    expect(ones).toBeGreaterThan(0);
    expect(batch.open.length).toBe(ones);
    for (const i of batch.open) expect(batch.occupancy[i]).toBe(1);
    const tensors = batchTensors(batch, config);
    const blocksOf = tf.reshape(tensors.x[0]!, [-1, config.blockSize * 2]);
    expect([...openCellsOf(blocksOf)!].sort((a, b) => a - b)).toEqual([...batch.open].sort((a, b) => a - b));
    tf.dispose([r, x, blocksOf, ...tensors.x, tensors.y]);
  });

  for (const backend of ['wasm', 'cpu'] as const) it(`is what the model trains block_conv with: trainOnBatch reads the record of its occupancy, on ${backend}`, async () => {
    if (backend === 'wasm') await selectDetectionBackend('wasm');
    else await tf.setBackend('cpu');
    const config: ModelConfig = { ...DEFAULT_MODEL_CONFIG, ...SMALL };
    const features = seededRounds(12, 3, config.ports);
    const windows = [0, 1, 2].map((k) => Array.from({ length: windowSpan(config) }, (_, j) => k + j));
    const kernelStep = async (emptyRecord: boolean): Promise<number> => {
      const model = buildModel(config, undefined, 4);
      model.compile({ optimizer: tf.train.sgd(1), loss: 'meanSquaredError' });
      const before = model.getLayer('block_conv').getWeights()[0]!.dataSync().slice();
      const { x, y } = batchTensors(makeBatch(features, windows, config), config);
      // A record of no open cells: if training reads it, block_conv's kernel gets no gradient.
      if (emptyRecord) recordOpenCells(x[0]!, new Int32Array(0));
      await model.trainOnBatch(x, y);
      const after = model.getLayer('block_conv').getWeights()[0]!.dataSync();
      let moved = 0;
      for (let i = 0; i < before.length; i++) moved = Math.max(moved, Math.abs(after[i]! - before[i]!));
      tf.dispose([...x, y]);
      model.dispose();
      return moved;
    };
    expect(await kernelStep(false)).toBeGreaterThan(0);
    expect(await kernelStep(true)).toBe(0);
  });

  it('sums the rows of dy over the open cells', () => {
    // x = [[1, 0, 1], [0, 1, 0]]: xᵀ·dy = [dy0, dy1, dy0].
    const dy = Float32Array.from([1, 2, 10, 20]);
    expect([...sparseTransposedProduct(Int32Array.from([0, 2, 4]), 3, dy, 2)]).toEqual([1, 2, 10, 20, 1, 2]);
  });

  it('loads a model saved when block_conv was a Dense into the layer of today, with its weights', async () => {
    await tf.setBackend('cpu');
    const config: ModelConfig = { ...DEFAULT_MODEL_CONFIG, ...SMALL };
    const dir = path.join(tempDir(), 'model');
    const model = buildModel(config, undefined, 5);
    const meta: ModelMeta = {
      format: MODEL_FORMAT, formatVersion: MODEL_FORMAT_VERSION, version: 2, createdAt: 1, backend: 'cpu', config, threshold: 4, thresholdMethod: 'empirical-max', roundsTrained: 10, history: [],
    };
    await saveModel(dir, model, meta);
    // The topology as a model saved before wrote it: block_conv a Dense with relu.
    const file = path.join(dir, 'model.json');
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { modelTopology: { config: { layers: { name: string; class_name: string; config: Record<string, unknown> }[] } } };
    const layer = saved.modelTopology.config.layers.find((l) => l.name === 'block_conv')!;
    expect(layer.class_name).toBe('OccupancyBlocks');
    layer.class_name = 'Dense';
    layer.config = { ...layer.config, activation: 'relu', use_bias: true, kernel_initializer: { class_name: 'Zeros', config: {} }, bias_initializer: { class_name: 'Zeros', config: {} } };
    fs.writeFileSync(file, JSON.stringify(saved));

    const loaded = await loadModel(dir, config);
    if (!loaded.model) throw new Error(loaded.reason);
    expect(loaded.model.getLayer('block_conv')).toBeInstanceOf(OccupancyBlocks);
    const features = seededRounds(10, 4, config.ports);
    const batch = makeBatch(features, [[0, 1, 2, 3, 4].slice(0, windowSpan(config))], config);
    const predict = (m: tf.LayersModel) => tf.tidy(() => (m.predict(batchTensors(batch, config).x) as tf.Tensor).dataSync().slice() as Float32Array);
    expect(predict(loaded.model)).toEqual(predict(model));
    loaded.model.dispose();
    model.dispose();
  });
});
