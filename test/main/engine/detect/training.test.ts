import * as tf from '../../../../src/main/engine/detect/tf';
import { describe, expect, it } from 'vitest';
import { buildModel, compileModel, DEFAULT_MODEL_CONFIG, type ModelConfig } from '../../../../src/main/engine/detect/model';
import { fit } from '../../../../src/main/engine/detect/training';
import { LeanAdam } from '../../../../src/main/engine/detect/leanAdam';
import { seededRandom } from '../../../../src/shared/random';
import { seededRounds } from './support/seededRounds';

const config: ModelConfig = { ...DEFAULT_MODEL_CONFIG, ports: 4096 };

describe('fit', () => {
  it('keeps the best epoch outside the backend: a training step holds the weights, two moments and its batch, no copy', async () => {
    await tf.setBackend('cpu');
    const features = seededRounds(60, 5, config.ports);
    const windows = Array.from({ length: 50 }, (_, i) => [i, i + 1, i + 2, i + 3, i + 4]);
    const start = tf.memory().numTensors;
    const model = buildModel(config, undefined, 3);
    compileModel(model, config);
    const weightBytes = model.getWeights().reduce((sum, w) => sum + w.size * 4, 0);
    // Bytes the backend holds as each training step starts (its batch already written).
    const before: number[] = [];
    const trainOnBatch = model.trainOnBatch.bind(model);
    model.trainOnBatch = (x, y) => {
      before.push(tf.memory().numBytes);
      return trainOnBatch(x, y);
    };
    const fitted = await fit(model, config, features, windows.slice(0, 36), { maxEpochs: 3, validation: windows.slice(36, 48), random: seededRandom(9) });
    expect(fitted.epochs.length).toBeGreaterThan(1);
    const cells = config.ports * 2;
    const batchBytes = 6 * (config.window * cells + config.window * 5 + 9 + cells) * 4;
    // From the second step on the optimizer's moments exist: weights + two moments + the batch
    // (and Adam's scalars); a copy of the weights kept in the backend would add a fourth share.
    for (const bytes of before.slice(1)) expect(bytes).toBeLessThanOrEqual(3 * weightBytes + batchBytes + 1024);
    // Nothing of the refit outlives the model and its optimizer.
    model.optimizer?.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it("frees each step's batch once its gradients are known, before the optimizer's update", async () => {
    await tf.setBackend('cpu');
    const features = seededRounds(30, 6, config.ports);
    const windows = Array.from({ length: 24 }, (_, i) => [i, i + 1, i + 2, i + 3, i + 4]);
    const model = buildModel(config, undefined, 4);
    compileModel(model, config);
    const weightBytes = model.getWeights().reduce((sum, w) => sum + w.size * 4, 0);
    const optimizer = model.optimizer as LeanAdam;
    expect(optimizer).toBeInstanceOf(LeanAdam);
    // Bytes the backend holds as each update starts, once the release the step set has run (as
    // LeanAdam.applyGradients runs it).
    const atUpdate: number[] = [];
    const applyGradients = optimizer.applyGradients.bind(optimizer);
    optimizer.applyGradients = (gradients) => {
      const release = optimizer.onGradients;
      optimizer.onGradients = null;
      release?.();
      atUpdate.push(tf.memory().numBytes);
      applyGradients(gradients);
    };
    await fit(model, config, features, windows.slice(0, 18), { maxEpochs: 1, validation: windows.slice(18), random: seededRandom(2) });
    expect(atUpdate).toHaveLength(3);
    // Weights, two moments and the gradients (one more share of the weights): the batch (about
    // 1 MB at 4,096 ports and batch 6) is gone.
    for (const bytes of atUpdate.slice(1)) expect(bytes).toBeLessThanOrEqual(4 * weightBytes + 1024);
    expect(optimizer.onGradients).toBeNull();
    model.optimizer?.dispose();
    model.dispose();
  });
});
