// Its own file so the cpu backend is untouched when the test starts: the Node.js banner fires on
// the cpu backend's first tensor write in a process, and vitest runs each file in a fresh worker.
import * as tf from '../../../../../src/main/engine/detect/tf';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../../../src/main/engine/log';
import { initBackend } from '../../../../../src/main/engine/detect/backend/selectBackend';

describe('initBackend falling back to cpu', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('falls back to cpu when the wasm binaries are missing, says why, and prints no tfjs banner', async () => {
    const printed: string[] = [];
    for (const method of ['warn', 'log', 'info', 'error'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        printed.push(args.map(String).join(' '));
      });
    }
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger((line) => lines.push(JSON.parse(line) as Record<string, unknown>), 'debug');

    // A real missing directory, not a mocked import: the same check a broken install would hit.
    const selection = await initBackend('node', { logger, wasmDir: '/nonexistent/tfjs-wasm' });

    expect(selection.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(selection.detail).toMatch(/wasm binaries not found: \/nonexistent\/tfjs-wasm\/tfjs-backend-wasm\.wasm/);
    expect(selection.detail).toMatch(/tfjs-node/);
    expect(lines.find((l) => l['msg'] === 'tfjs wasm backend not used')?.['level']).toBe('warn');

    const y = tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3])));
    expect(y.dataSync()[0]).toBe(6);
    y.dispose();
    expect(printed.filter((p) => p.includes('looks like you are running TensorFlow.js in Node.js'))).toEqual([]);
  });

  it("uses only cpu for preference 'cpu'", async () => {
    const selection = await initBackend('cpu');
    expect(selection.name).toBe('cpu');
    expect(selection.detail).toMatch(/wasm not tried/);
  });
});
