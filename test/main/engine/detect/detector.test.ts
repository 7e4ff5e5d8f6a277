import fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { DetectionStore } from '../../../../src/main/engine/store/detectionStore';
import { selectDetectionBackend } from '../../../../src/main/engine/detect/backendChoice';
import { runDetection, trainingWindows, type DetectorOptions } from '../../../../src/main/engine/detect/detector';
import { seededRandom } from '../../../../src/shared/random';
import { createLogger } from '../../../../src/main/engine/log';
import { openTestDb } from '../../../support/db';
import { tempDir } from '../../../support/tmp';
import { listener, MIN, recordRounds, SMALL, T0 } from './support';

let db: Db;
let modelDir: string;
let backend: string;
let logs: { level: string; msg: string; reason?: string }[];

beforeAll(async () => {
  backend = (await selectDetectionBackend('wasm')).name;
});
beforeEach(() => {
  db = openTestDb().db;
  modelDir = path.join(tempDir(), 'model');
  logs = [];
});
afterEach(() => db.close());

const normal = () => [listener(22), listener(631, '/usr/sbin/cupsd', 822), listener(80, '/usr/sbin/nginx', 900)];
const run = (over: Partial<DetectorOptions> = {}, now = T0 + 1_000 * MIN) =>
  runDetection({
    db, modelDir, backend, config: SMALL, minTrainingRounds: 100, initialEpochs: 12, maxEpochs: 6, random: seededRandom(1), now: () => now,
    log: createLogger((l) => logs.push(JSON.parse(l) as (typeof logs)[number]), 'debug'), ...over,
  });

describe('runDetection', () => {
  it('is "learning" until it has trained on the minimum history, scoring but never alerting', async () => {
    recordRounds(db, T0, 60, (i) => (i === 30 ? [...normal(), listener(444, '/tmp/x', 3121)] : normal()));
    const first = await run();
    expect(first.learning).toEqual({ learning: true, roundsTrained: 60, roundsNeeded: 100 });
    expect(first.roundsScored).toBe(60);
    expect(first.incidents).toEqual([]);
    expect(db.prepare('SELECT count(*) AS n, sum(anomalous) AS a, count(threshold) AS t FROM round_scores').get()).toEqual({ n: 60, a: 0, t: 0 });
    expect(first.backend).toBe(backend);
    expect(db.prepare('SELECT backend, status, rounds_scored FROM detection_runs').get()).toEqual({ backend, status: 'ok', rounds_scored: 60 });
  });

  it('after learning, raises an explained incident for a new listener and never learns it as normal', async () => {
    recordRounds(db, T0, 120, () => normal());
    const learned = await run();
    expect(learned.learning.learning).toBe(false);
    expect(learned.threshold).toBeGreaterThan(0);
    const ids = recordRounds(db, T0 + 120 * MIN, 30, (i) => (i >= 10 && i < 16 ? [...normal(), listener(444, '/tmp/x', 3121)] : normal()));
    const second = await run({}, T0 + 2_000 * MIN);
    expect(second.roundsScored).toBe(30);
    expect(second.incidents).toHaveLength(1);
    const [incident] = second.incidents;
    expect(incident).toMatchObject({ startRoundId: ids[10], status: 'new' });
    expect(incident!.endRoundId).toBeGreaterThanOrEqual(ids[10]!);
    expect(incident!.ports[0]).toMatchObject({ proto: 'tcp', port: 444, direction: 'appeared', exe: '/tmp/x', pid: 3121 });
    expect(incident!.sentence).toMatch(/^Port 444\/tcp started listening: \/tmp\/x \(pid 3121\), never seen before/);
    const flagged = db.prepare('SELECT round_id FROM round_scores WHERE anomalous = 1').pluck().all() as number[];
    expect(flagged).toContain(ids[10]);
    // Refit exclusion: no training window contains a flagged round.
    const store = new DetectionStore(db);
    const targets = ids.map((id, i) => ({ id, startedAt: T0 + (120 + i) * MIN }));
    const windows = trainingWindows(store, db, targets, new Map(), 3, 150_000, { ports: 1024 });
    expect(windows.length).toBeGreaterThan(0);
    expect(windows.flat().some((id) => flagged.includes(id))).toBe(false);
    // Once the user says it was expected, its rounds become training data.
    store.markIncidentExpected(incident!.id, T0 + 3_000 * MIN);
    const approved = trainingWindows(store, db, targets, new Map(), 3, 150_000, { ports: 1024 });
    expect(approved.flat()).toContain(ids[10]);
    expect(store.incident(incident!.id)!.status).toBe('expected');
  });

  it('leaves no tensors behind, run after run (an hourly job must not leak)', async () => {
    recordRounds(db, T0, 40, () => normal());
    await run();
    const before = tf.memory().numTensors;
    recordRounds(db, T0 + 40 * MIN, 20, () => normal());
    await run();
    recordRounds(db, T0 + 60 * MIN, 20, () => normal());
    await run();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('discards a corrupt saved model with a log message and trains a new one', async () => {
    recordRounds(db, T0, 40, () => normal());
    const first = await run();
    const weights = path.join(modelDir, 'weights.bin');
    fs.truncateSync(weights, 1000);
    recordRounds(db, T0 + 40 * MIN, 20, () => normal());
    const second = await run();
    expect(logs.find((l) => l.level === 'warn')).toMatchObject({ msg: expect.stringMatching(/discarding/), reason: expect.stringMatching(/weights.bin/) });
    expect(second.learning.roundsTrained).toBe(20); // started over
    expect(second.modelVersion).toBeGreaterThan(first.modelVersion);
    expect(fs.statSync(weights).size).toBeGreaterThan(1000);
  });
});
