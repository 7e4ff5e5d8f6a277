import fs from 'node:fs';
import path from 'node:path';
import * as tf from '../../../../src/main/engine/detect/tf';
import { selectDetectionBackend } from '../../../../src/main/engine/detect/backendChoice';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, DEFAULT_MODEL_CONFIG, type ModelConfig } from '../../../../src/main/engine/detect/model';
import { discardModel, loadModel, MODEL_FORMAT, MODEL_FORMAT_VERSION, saveModel, type ModelMeta } from '../../../../src/main/engine/detect/modelStore';
import { CHANNELS, CONTEXT_SIZE, TARGET_TIME_SIZE } from '../../../../src/main/engine/detect/features';
import { countRounds, emptyHourCounts } from '../../../../src/main/engine/detect/hourProfile';
import { tempDir } from '../../../support/tmp';
import { SMALL } from './support';

const config: ModelConfig = { ...DEFAULT_MODEL_CONFIG, ...SMALL };
const counts = countRounds(emptyHourCounts(), [{ roundId: 1, startedAt: new Date(2026, 2, 2, 9, 30).getTime(), active: Int32Array.from([44, 1262]), ephemeralUdp: 0, context: new Float32Array(5) }]);
const meta = (over: Partial<ModelMeta> = {}): ModelMeta => ({
  format: MODEL_FORMAT, formatVersion: MODEL_FORMAT_VERSION, version: 3, createdAt: 1, backend: 'cpu', config, threshold: 4.2, thresholdMethod: 'empirical-max', roundsTrained: 500,
  history: [{ at: 1, epochs: [{ loss: 0.5, valScore: 3 }] }], hourCounts: counts, ...over,
});

beforeAll(async () => {
  await selectDetectionBackend('cpu');
});

function predict(model: tf.LayersModel): Float32Array {
  return tf.tidy(() => {
    const x = tf.ones([1, config.window, config.ports, CHANNELS]);
    const c = tf.zeros([1, config.window, CONTEXT_SIZE]);
    const t = tf.ones([1, TARGET_TIME_SIZE]);
    return (model.predict([x, c, t]) as tf.Tensor).dataSync() as Float32Array;
  });
}

describe('model save and load', () => {
  it('round-trips weights, threshold, history and backend through a folder', async () => {
    const dir = path.join(tempDir(), 'model');
    const model = buildModel(config);
    await saveModel(dir, model, meta());
    const loaded = await loadModel(dir, config);
    if (!loaded.model) throw new Error(loaded.reason);
    expect(loaded.meta).toMatchObject({ version: 3, threshold: 4.2, backend: 'cpu', roundsTrained: 500, history: meta().history, hourCounts: counts });
    expect(predict(loaded.model)).toEqual(predict(model));
    expect(fs.readdirSync(path.dirname(dir)).sort()).toEqual(['model']); // no temp folders left over
  });

  it('replaces a saved model atomically, leaving only the new one', async () => {
    const dir = path.join(tempDir(), 'model');
    await saveModel(dir, buildModel(config), meta({ version: 1 }));
    await saveModel(dir, buildModel(config), meta({ version: 2 }));
    const loaded = await loadModel(dir, config);
    expect(loaded.model && loaded.meta.version).toBe(2);
    expect(fs.readdirSync(path.dirname(dir))).toEqual(['model']);
  });

  it("loads a model saved while the config still had `front: 'blocks'`, and refuses one saved with `front: 'conv1d'`", async () => {
    // What a model saved before the option was removed stores: the same config plus `front`.
    const legacy = (front: string): ModelConfig => ({ ...config, front }) as ModelConfig;
    const dir = path.join(tempDir(), 'model');
    const model = buildModel(config);
    await saveModel(dir, model, meta({ config: legacy('blocks') }));
    expect((JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as { meta: ModelMeta }).meta.config).toMatchObject({ front: 'blocks' });
    const loaded = await loadModel(dir, config);
    if (!loaded.model) throw new Error(loaded.reason);
    expect(predict(loaded.model)).toEqual(predict(model));

    // Conv1D layers would fail the first refit on wasm: say why, so the caller discards it and trains anew.
    await saveModel(dir, model, meta({ config: legacy('conv1d') }));
    expect(await loadModel(dir, config)).toEqual({ model: null, reason: "saved model was built with the 'conv1d' front, which Portent no longer builds" });
  });

  it('reports a truncated weights file, a corrupt model.json and a different architecture instead of crashing', async () => {
    const dir = path.join(tempDir(), 'model');
    await saveModel(dir, buildModel(config), meta());
    expect((await loadModel(dir, { ...config, bottleneck: 12 })) as { reason: string }).toMatchObject({ model: null, reason: expect.stringMatching(/different bottleneck/) });
    // Counts that are not counts: rebuilt. A model saved before the counts existed loads without them.
    const other = path.join(tempDir(), 'model');
    await saveModel(other, buildModel(config), meta({ hourCounts: { rounds: [1, 2], cells: {} } }));
    expect(await loadModel(other, config)).toMatchObject({ model: null, reason: 'model.json has malformed hour-of-day counts' });
    await saveModel(other, buildModel(config), meta({ hourCounts: undefined }));
    const older = await loadModel(other, config);
    expect(older.model && older.meta.hourCounts).toBeUndefined();
    const weights = path.join(dir, 'weights.bin');
    fs.truncateSync(weights, fs.statSync(weights).size - 100);
    expect(await loadModel(dir, config)).toMatchObject({ model: null, reason: expect.stringMatching(/weights.bin has .* bytes/) });
    fs.writeFileSync(path.join(dir, 'model.json'), '{"meta": {');
    expect(await loadModel(dir, config)).toMatchObject({ model: null, reason: expect.stringMatching(/unreadable/) });
    discardModel(dir);
    expect(await loadModel(dir, config)).toMatchObject({ model: null, reason: 'no saved model' });
  });
});
