import * as tf from '../../../../src/main/engine/detect/tf';
import { describe, expect, it } from 'vitest';
import { selectDetectionBackend } from '../../../../src/main/engine/detect/backendChoice';
import { seededRandom } from '../../../../src/shared/random';

function random(shape: number[], seed: number): { data: Float32Array; shape: number[] } {
  const r = seededRandom(seed);
  return { data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1), shape };
}

async function product(backend: 'cpu' | 'wasm', a: ReturnType<typeof random>, b: ReturnType<typeof random>, ta: boolean, tb: boolean): Promise<Float32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => tf.matMul(tf.tensor(a.data, a.shape), tf.tensor(b.data, b.shape), ta, tb).dataSync() as Float32Array);
}

describe('wasm matMul with a transposed left operand', () => {
  it('matches the cpu backend on random inputs, for every transpose combination and shape used', async () => {
    expect((await selectDetectionBackend('wasm')).detail).toMatch(/transposed-left matMul/);
    const cases: [number[], number[], boolean, boolean][] = [
      [[300, 40], [300, 8], true, false], // a large: transposes b and the product
      [[6, 16], [6, 500], true, false], // a small: transposes a
      [[2, 30, 7], [2, 30, 5], true, false], // batched
      [[30, 7], [5, 30], true, true],
      [[7, 30], [5, 30], false, true], // untouched path
      [[6, 20000], [21, 20000], false, true], // a long shared dimension: (b·aᵀ)ᵀ
      [[1, 6, 20000], [1, 21, 20000], false, true], // the same, batched (the decoder's input gradient)
      [[30, 20000], [21, 20000], false, true], // a the larger side: untouched
    ];
    for (const [i, [as, bs, ta, tb]] of cases.entries()) {
      const a = random(as, 2 * i + 1);
      const b = random(bs, 2 * i + 2);
      const want = await product('cpu', a, b, ta, tb);
      const got = await product('wasm', a, b, ta, tb);
      expect(got.length).toBe(want.length);
      let worst = 0;
      let largest = 1;
      for (let k = 0; k < want.length; k++) {
        worst = Math.max(worst, Math.abs(got[k]! - want[k]!));
        largest = Math.max(largest, Math.abs(want[k]!));
      }
      // Float32 sums in another order: equal to a few parts in a million of the largest entry.
      expect(worst / largest).toBeLessThan(1e-5);
    }
  });
});
