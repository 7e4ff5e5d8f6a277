/**
 * Times the wasm Conv2DBackpropFilter kernel (src/main/engine/detect/backend/conv2dBackpropFilter.ts)
 * against the cpu backend's on the detector's shapes, and prints one JSON document.
 *
 *   npx tsx bench/kernels.ts            # everything (the cpu reference takes a minute or two)
 *   npx tsx bench/kernels.ts --no-cpu   # wasm paths only
 *
 * The cpu kernel is timed at batch 1 only (at batch 10 a single call takes over a minute), with
 * wasm timed on the same batch-1 inputs so the ratio is like for like. Each wasm number is the
 * best of several runs; the machines are shared, so read ratios, not absolute times.
 */
import * as tf from '@tensorflow/tfjs';
import {
  forceConv2DBackpropFilterPath,
  lastConv2DBackpropFilterPath,
  type BackpropFilterPath,
} from '../src/main/engine/detect/backend/conv2dBackpropFilter';
import { initBackend } from '../src/main/engine/detect/backend/selectBackend';
import { seededRandom } from '../src/shared/random';

type Shape4 = [number, number, number, number];

interface Case {
  name: string;
  /** x without the batch dimension: [height, width, channels]. */
  x: [number, number, number];
  filter: Shape4;
  stride: number;
  pad: 'same' | 'valid';
  /** Fraction of non-zero inputs; undefined = dense uniform noise (a gradient, say). */
  density?: number;
}

const PORTS = 65_536;
const cases: Case[] = [
  { name: 'first conv, occupancy 0/1 (0.3% set), k64 s4 -> 32', x: [1, PORTS, 1], filter: [1, 64, 1, 32], stride: 4, pad: 'same', density: 0.003 },
  { name: 'first conv, dense input, k64 s4 -> 32', x: [1, PORTS, 1], filter: [1, 64, 1, 32], stride: 4, pad: 'same' },
  { name: 'first conv, 2 channels dense, k16 s2 -> 16', x: [1, PORTS, 2], filter: [1, 16, 2, 16], stride: 2, pad: 'same' },
  { name: 'first conv, dense, k8 s8 -> 8 valid', x: [1, PORTS, 1], filter: [1, 8, 1, 8], stride: 8, pad: 'valid' },
  { name: 'first conv, dense, k32 s16 -> 32', x: [1, PORTS, 1], filter: [1, 32, 1, 32], stride: 16, pad: 'same' },
  { name: 'blocks: 4 rounds x 65536 x 2 occupancy (0.04% set), k512 s512 -> 8', x: [1, 4 * PORTS, 2], filter: [1, 512, 2, 8], stride: 512, pad: 'valid', density: 0.0004 },
  { name: 'blocks: 4 rounds x 65536 x 2 dense, k512 s512 -> 8', x: [1, 4 * PORTS, 2], filter: [1, 512, 2, 8], stride: 512, pad: 'valid' },
  { name: 'second conv, 4096 x 32, k8 s2 -> 32', x: [1, 4096, 32], filter: [1, 8, 32, 32], stride: 2, pad: 'same' },
  { name: 'second conv, 512 x 8, k8 s8 -> 16 valid', x: [1, 512, 8], filter: [1, 8, 8, 16], stride: 8, pad: 'valid' },
  { name: 'decoder conv2dTranspose filter grad, 65536 x 4, k16 s4', x: [1, PORTS, 4], filter: [1, 16, 4, 16], stride: 4, pad: 'same' },
];

const rng = seededRandom;

function values(size: number, seed: number, density?: number): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = density == null ? next() * 2 - 1 : next() < density ? 1 : 0;
  return out;
}

interface Inputs {
  xShape: Shape4;
  dyShape: Shape4;
  x: Float32Array;
  dy: Float32Array;
}

function inputs(c: Case, batch: number): Inputs {
  const xShape: Shape4 = [batch, ...c.x];
  const dyShape = tf.backend_util.computeConv2DInfo(xShape, c.filter, [1, c.stride], 1, c.pad).outShape;
  return {
    xShape,
    dyShape,
    x: values(xShape.reduce((a, b) => a * b, 1), 1, c.density),
    dy: values(dyShape.reduce((a, b) => a * b, 1), 2),
  };
}

/** Best-of-`runs` milliseconds for one Conv2DBackpropFilter call on the active backend. */
function time(c: Case, data: Inputs, runs: number): { ms: number; path: string | null } {
  const x = tf.tensor4d(data.x, data.xShape);
  const dy = tf.tensor4d(data.dy, data.dyShape);
  const attrs = { strides: [1, c.stride], pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter } as unknown as tf.NamedAttrMap;
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const out = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor;
    out.dataSync();
    best = Math.min(best, performance.now() - start);
    out.dispose();
  }
  tf.dispose([x, dy]);
  return { ms: Math.round(best * 10) / 10, path: tf.getBackend() === 'wasm' ? lastConv2DBackpropFilterPath() : null };
}

async function main(): Promise<void> {
  const withCpu = !process.argv.includes('--no-cpu');
  const selection = await initBackend('wasm');
  const results: unknown[] = [];
  for (const c of cases) {
    const row: Record<string, unknown> = { case: c.name };
    const batch10 = inputs(c, 10);
    const wasm10: Record<string, unknown> = {};
    for (const path of ['auto', 'xnnpack', 'sparse'] as BackpropFilterPath[]) {
      // The sparse path on dense data is the slow JS fallback; timing it once is enough.
      forceConv2DBackpropFilterPath(path);
      wasm10[path] = time(c, batch10, path === 'sparse' && c.density == null ? 1 : 3);
    }
    forceConv2DBackpropFilterPath('auto');
    row['batch10Wasm'] = wasm10;
    if (withCpu) {
      const batch1 = inputs(c, 1);
      const wasm1 = time(c, batch1, 3);
      await initBackend('cpu');
      const cpu1 = time(c, batch1, 1);
      await initBackend('wasm');
      row['batch1'] = { cpuMs: cpu1.ms, wasmAutoMs: wasm1.ms, wasmPath: wasm1.path, speedup: Math.round((cpu1.ms / Math.max(wasm1.ms, 0.1)) * 10) / 10 };
    }
    results.push(row);
  }
  process.stdout.write(`${JSON.stringify({ backend: selection.detail, node: process.version, results }, null, 2)}\n`);
}

await main();
