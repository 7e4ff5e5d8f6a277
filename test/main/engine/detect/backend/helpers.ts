import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { seededRandom } from '../../../../../src/shared/random';

/** Deterministic PRNG so failures reproduce with the same numbers. */
export const rng = seededRandom;

export function randomValues(size: number, seed: number): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = next() * 2 - 1;
  return out;
}

/** 0/1 values with the given density, like a port-occupancy vector. */
export function binaryValues(size: number, density: number, seed: number): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = next() < density ? 1 : 0;
  return out;
}

/**
 * Largest difference relative to the reference's largest magnitude. Element-wise relative error
 * would blow up on sums that cancel to near zero, which float32 cannot reproduce exactly.
 */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Infinity;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i]! - expected[i]!);
    if (Number.isNaN(diff)) return Infinity;
    worst = Math.max(worst, diff / (scale || 1));
  }
  return worst;
}

export interface BackpropFilterCase {
  xShape: [number, number, number, number];
  filterShape: [number, number, number, number];
  strides: [number, number];
  pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
}

export function dyShapeOf(c: BackpropFilterCase): [number, number, number, number] {
  const info = tf.backend_util.computeConv2DInfo(c.xShape, c.filterShape, c.strides, 1, c.pad);
  return info.outShape;
}

/** Runs the Conv2DBackpropFilter kernel of the active backend through the engine. */
export function runBackpropFilter(c: BackpropFilterCase, x: Float32Array, dy: Float32Array): Float32Array {
  const xt = tf.tensor4d(x, c.xShape);
  const dyt = tf.tensor4d(dy, dyShapeOf(c));
  try {
    const out = tf.engine().runKernel('Conv2DBackpropFilter', { x: xt, dy: dyt }, {
      strides: c.strides,
      pad: c.pad,
      dataFormat: 'NHWC',
      filterShape: c.filterShape,
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
    expect(out.shape).toEqual(c.filterShape);
    // Float32Array.from: the cpu backend may hand back its own storage.
    const values = Float32Array.from(out.dataSync());
    out.dispose();
    return values;
  } finally {
    tf.dispose([xt, dyt]);
  }
}
