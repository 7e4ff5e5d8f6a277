import * as tf from '../../../../../src/main/engine/detect/tf';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../../../src/main/engine/log';
import { initBackend } from '../../../../../src/main/engine/detect/backend/selectBackend';

// Whether tfjs-node is really installed, asked the way Node itself resolves it. Nothing is mocked:
// on a machine where it is installed the expectations flip to the native backend.
function tfjsNodeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}
const nodeInstalled = tfjsNodeInstalled();

/** Whether it also loads (its native addon built or downloaded), tried in a child process. */
function tfjsNodeLoads(): boolean {
  if (!nodeInstalled) return false;
  return spawnSync(process.execPath, ['-e', "require('@tensorflow/tfjs-node')"], { stdio: 'ignore', timeout: 60_000 }).status === 0;
}
const nodeLoads = tfjsNodeLoads();

function capturingLogger(): { lines: Array<Record<string, unknown>>; logger: ReturnType<typeof createLogger> } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, logger: createLogger((line) => lines.push(JSON.parse(line) as Record<string, unknown>), 'debug') };
}

describe('initBackend', () => {
  it.runIf(!nodeInstalled)('falls back to SIMD wasm when @tensorflow/tfjs-node is absent, and says why', async () => {
    const { lines, logger } = capturingLogger();
    const selection = await initBackend('node', { logger });
    expect(selection.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(selection.detail).toMatch(/@tensorflow\/tfjs-node is not installed/);
    // SIMD validates in Node's V8 (20 and 22); the scalar binary would be ~3x slower.
    expect(selection.detail).toMatch(/wasm \(simd, 1 thread\)/);
    expect(lines.find((l) => l['msg'] === 'tfjs-node not used')?.['reason']).toMatch(/not installed/);
    expect(lines.find((l) => l['msg'] === 'tfjs backend selected')?.['backend']).toBe('wasm');
  });

  it.runIf(nodeLoads)('uses the native backend when @tensorflow/tfjs-node is installed', async () => {
    const selection = await initBackend('node');
    expect(selection.name).toBe('tensorflow');
    expect(tf.getBackend()).toBe('tensorflow');
  });

  it.runIf(nodeInstalled && !nodeLoads)('falls back to wasm when @tensorflow/tfjs-node is installed but its native addon is missing, and says why', async () => {
    const selection = await initBackend('node');
    expect(selection.name).toBe('wasm');
    expect(selection.detail).toMatch(/@tensorflow\/tfjs-node is installed but failed to load/);
  });

  it("skips tfjs-node for preference 'wasm'", async () => {
    const selection = await initBackend('wasm');
    expect(selection.name).toBe('wasm');
    expect(selection.detail).toMatch(/tfjs-node not tried/);
  });

  it('shares one initialisation between calls and restores the backend it chose', async () => {
    const first = initBackend('wasm');
    const second = initBackend('wasm');
    expect(await first).toBe(await second);
    await tf.setBackend('cpu');
    expect((await initBackend('wasm')).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('computes on the chosen backend', async () => {
    await initBackend('wasm');
    const y = tf.tidy(() => tf.sum(tf.mul(tf.tensor1d([1, 2, 3]), 2)));
    expect(y.dataSync()[0]).toBe(12);
    y.dispose();
  });
});
