import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  forceConv2DBackpropFilterPath,
  lastConv2DBackpropFilterPath,
} from '../../../../../src/main/engine/detect/backend/conv2dBackpropFilter';
import { initBackend } from '../../../../../src/main/engine/detect/backend/selectBackend';
import {
  binaryValues,
  dyShapeOf,
  maxRelativeError,
  randomValues,
  runBackpropFilter,
  type BackpropFilterCase,
} from './helpers';

const TOLERANCE = 1e-4;

// Kept small: the cpu reference kernel reads every element through TensorBuffer.get and manages
// only a few million multiply-adds a second on the test machines.
const cases: Array<BackpropFilterCase & { name: string }> = [
  { name: 'conv1d same, stride 4', xShape: [2, 1, 300, 1], filterShape: [1, 16, 1, 8], strides: [1, 4], pad: 'same' },
  { name: 'conv1d valid, odd length, stride 3', xShape: [3, 1, 257, 2], filterShape: [1, 9, 2, 5], strides: [1, 3], pad: 'valid' },
  { name: 'conv1d batch 1, stride = width', xShape: [1, 1, 128, 1], filterShape: [1, 8, 1, 4], strides: [1, 8], pad: 'same' },
  { name: 'conv1d batch 1, several channels', xShape: [1, 1, 90, 3], filterShape: [1, 6, 3, 5], strides: [1, 2], pad: 'same' },
  { name: 'conv1d stride > width', xShape: [2, 1, 100, 1], filterShape: [1, 3, 1, 4], strides: [1, 5], pad: 'same' },
  { name: 'conv1d stride 1', xShape: [2, 1, 64, 3], filterShape: [1, 7, 3, 4], strides: [1, 1], pad: 'same' },
  { name: 'second layer, many channels', xShape: [2, 1, 96, 12], filterShape: [1, 5, 12, 7], strides: [1, 2], pad: 'same' },
  { name: '2-D same', xShape: [2, 7, 9, 3], filterShape: [3, 4, 3, 4], strides: [2, 3], pad: 'same' },
  { name: '2-D valid', xShape: [2, 8, 11, 2], filterShape: [3, 3, 2, 5], strides: [2, 2], pad: 'valid' },
  {
    name: '2-D explicit padding',
    xShape: [2, 6, 10, 2],
    filterShape: [2, 3, 2, 3],
    strides: [1, 2],
    pad: [[0, 0], [1, 2], [3, 0], [0, 0]],
  },
];

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

async function reference(c: BackpropFilterCase, x: Float32Array, dy: Float32Array): Promise<Float32Array> {
  await tf.setBackend('cpu');
  try {
    return runBackpropFilter(c, x, dy);
  } finally {
    await tf.setBackend('wasm');
  }
}

describe('wasm Conv2DBackpropFilter', () => {
  beforeAll(async () => {
    const selection = await initBackend('wasm');
    expect(selection.name).toBe('wasm');
    // IS_TEST makes the engine check every kernel for leaked data ids (and mutes the cpu
    // backend's Node.js banner).
    tf.env().set('IS_TEST', true);
  });

  afterEach(() => {
    forceConv2DBackpropFilterPath('auto');
  });

  for (const c of cases) {
    for (const path of ['xnnpack', 'sparse'] as const) {
      it(`${c.name} (${path}) matches the cpu backend`, async () => {
        const x = randomValues(size(c.xShape), 1);
        const dy = randomValues(size(dyShapeOf(c)), 2);
        const expected = await reference(c, x, dy);
        forceConv2DBackpropFilterPath(path);
        const before = tf.memory().numTensors;
        const actual = runBackpropFilter(c, x, dy);
        expect(lastConv2DBackpropFilterPath()).toBe(path);
        expect(maxRelativeError(actual, expected)).toBeLessThan(TOLERANCE);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }

  it('takes the sparse path for sparse 0/1 input and the XNNPACK path for dense input', async () => {
    const c: BackpropFilterCase = { xShape: [4, 1, 4096, 1], filterShape: [1, 32, 1, 16], strides: [1, 4], pad: 'same' };
    const sparseX = binaryValues(size(c.xShape), 0.005, 3);
    const dy = randomValues(size(dyShapeOf(c)), 4);
    const expected = await reference(c, sparseX, dy);
    const actual = runBackpropFilter(c, sparseX, dy);
    expect(lastConv2DBackpropFilterPath()).toBe('sparse');
    expect(maxRelativeError(actual, expected)).toBeLessThan(TOLERANCE);

    runBackpropFilter(c, randomValues(size(c.xShape), 5), dy);
    expect(lastConv2DBackpropFilterPath()).toBe('xnnpack');
  });

  it('returns zeros for an all-zero input on both paths', () => {
    const c: BackpropFilterCase = { xShape: [2, 1, 64, 1], filterShape: [1, 8, 1, 4], strides: [1, 2], pad: 'same' };
    const dy = randomValues(size(dyShapeOf(c)), 6);
    for (const path of ['xnnpack', 'sparse'] as const) {
      forceConv2DBackpropFilterPath(path);
      expect(Array.from(runBackpropFilter(c, new Float32Array(size(c.xShape)), dy)).every((v) => v === 0)).toBe(true);
    }
  });

  it('gives the same conv1d filter gradient as cpu through tf.grads (the route tfjs-layers takes)', async () => {
    const xShape: [number, number, number] = [3, 500, 2];
    const wShape: [number, number, number] = [12, 2, 6];
    const xv = randomValues(size(xShape), 7);
    const wv = randomValues(size(wShape), 8);
    const gradOn = async (backend: string): Promise<Float32Array> => {
      await tf.setBackend(backend);
      const x = tf.tensor3d(xv, xShape);
      const w = tf.tensor3d(wv, wShape);
      const g = tf.grad((filter) => tf.conv1d(x, filter as tf.Tensor3D, 3, 'same').square().sum())(w);
      const values = Float32Array.from(g.dataSync());
      tf.dispose([x, w, g]);
      return values;
    };
    const expected = await gradOn('cpu');
    const actual = await gradOn('wasm');
    expect(maxRelativeError(actual, expected)).toBeLessThan(TOLERANCE);
  });

  it('rejects NCHW, which tfjs-layers never produces', () => {
    const x = tf.zeros([1, 1, 8, 8]);
    const dy = tf.zeros([1, 1, 8, 4]);
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
        strides: [1, 1],
        pad: 'same',
        dataFormat: 'NCHW',
        filterShape: [1, 1, 1, 1],
      } as unknown as tf.NamedAttrMap),
    ).toThrow(/NHWC/);
    tf.dispose([x, dy]);
  });
});
