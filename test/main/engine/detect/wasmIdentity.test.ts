import * as tf from '../../../../src/main/engine/detect/tf';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../../../src/main/engine/detect/backend/selectBackend';
import { installSharedIdentity } from '../../../../src/main/engine/detect/wasmIdentity';
import { buildModel, compileModel, DEFAULT_MODEL_CONFIG, type ModelConfig } from '../../../../src/main/engine/detect/model';
import { fit, scoreWindows } from '../../../../src/main/engine/detect/training';
import { seededRandom } from '../../../../src/shared/random';
import { seededRounds } from './support/seededRounds';

const config: ModelConfig = { ...DEFAULT_MODEL_CONFIG, ports: 4096 };

const rounds = (n: number, seed: number) => seededRounds(n, seed, config.ports);

/** A refit with early stopping, then scores: every float the detector keeps from a run. */
async function run(): Promise<{ weights: Float32Array[]; scores: number[]; totals: number[]; validation: number[] }> {
  const features = rounds(60, 5);
  const windows = Array.from({ length: 50 }, (_, i) => [i, i + 1, i + 2, i + 3, i + 4]);
  const model = buildModel(config, undefined, 3);
  compileModel(model, config);
  const fitted = await fit(model, config, features, windows.slice(0, 36), { maxEpochs: 3, validation: windows.slice(36, 44), random: seededRandom(9) });
  const scored = await scoreWindows(model, config, features, windows.slice(44));
  const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
  model.optimizer?.dispose();
  model.dispose();
  return { weights, scores: scored.map((s) => s.score), totals: scored.map((s) => s.total), validation: fitted.validationScores };
}

describe('the wasm Identity that shares its input', () => {
  it('trains and scores bit for bit as the copying one, and allocates nothing', async () => {
    expect((await initBackend('wasm')).name).toBe('wasm');
    const copying = await run();
    expect(installSharedIdentity()).toBe(true);
    const shared = await run();
    expect(shared.scores).toEqual(copying.scores);
    expect(shared.totals).toEqual(copying.totals);
    expect(shared.validation).toEqual(copying.validation);
    for (let i = 0; i < copying.weights.length; i++) expect(Buffer.from(shared.weights[i]!.buffer).equals(Buffer.from(copying.weights[i]!.buffer))).toBe(true);

    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.engine().runKernel('Identity', { x }) as tf.Tensor;
    expect(y.dataId).toBe(x.dataId);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    y.dispose();
  });
});
