import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { DetectionStore } from '../../../../src/main/engine/store/detectionStore';
import { epochsOf, listDetectionRuns, listModels, RUNS_SQL, MODELS_SQL } from '../../../../src/main/engine/queries/runs';
import { DetectionRunSchema, ModelVersionSchema } from '../../../../src/shared/contract';
import { openTestDb } from '../../../support/db';
import { planOf, T0 } from './seed';

let db: Db;
beforeEach(() => {
  db = openTestDb().db;
});
afterEach(() => db.close());

describe('listDetectionRuns', () => {
  it('lists runs newest first with their outcome', () => {
    const store = new DetectionStore(db);
    const a = store.startRun('schedule', T0, 'wasm');
    store.finishRun(a, { endedAt: T0 + 500, status: 'ok', roundsScored: 60, incidents: 1, modelVersion: 3 });
    const b = store.startRun('manual', T0 + 3_600_000, null);
    store.finishRun(b, { endedAt: T0 + 3_600_100, status: 'failed', roundsScored: 0, incidents: 0, modelVersion: null, error: 'out of memory' });
    store.startRun('schedule', T0 + 7_200_000, 'wasm');
    const runs = listDetectionRuns(db, { limit: 2 });
    expect(runs.map((r) => r.id)).toEqual([b + 1, b]);
    expect(runs[1]).toEqual({ id: b, trigger: 'manual', startedAt: T0 + 3_600_000, endedAt: T0 + 3_600_100, status: 'failed', roundsScored: 0, incidents: 0, backend: null, modelVersion: null, error: 'out of memory' });
    expect(runs[0]).toMatchObject({ status: 'running', endedAt: null });
    for (const r of listDetectionRuns(db, { limit: 10 })) expect(DetectionRunSchema.parse(r)).toEqual(r);
    expect(planOf(db, RUNS_SQL, [5])).toMatch(/SCAN detection_runs USING INDEX detection_runs_started_at/);
  });
});

describe('listModels', () => {
  it("reads each version's refit curve as the detector writes it", () => {
    const store = new DetectionStore(db);
    const architecture = { ports: 64 };
    // What detector.ts records: the last refit, { at, epochs: [{ loss, valScore }] }.
    store.recordModel({ version: 1, createdAt: T0, backend: 'cpu', threshold: null, architecture, history: { at: T0, epochs: [{ loss: 0.9, valScore: 0.8 }] }, roundsTrained: 60, roundsSeen: 60 });
    store.recordModel({
      version: 2,
      createdAt: T0 + 3_600_000,
      backend: 'wasm',
      threshold: 3.2,
      architecture,
      // JSON turns a NaN validation score (nothing held out) into null.
      history: { at: T0 + 3_600_000, epochs: [{ loss: 0.5, valScore: 0.6 }, { loss: 0.4, valScore: Number.NaN }] },
      roundsTrained: 120,
      roundsSeen: 120,
    });
    const models = listModels(db, { limit: 10 });
    expect(models).toEqual([
      { version: 2, createdAt: T0 + 3_600_000, backend: 'wasm', threshold: 3.2, roundsTrained: 120, history: [{ loss: 0.5, valLoss: 0.6 }, { loss: 0.4, valLoss: null }] },
      { version: 1, createdAt: T0, backend: 'cpu', threshold: null, roundsTrained: 60, history: [{ loss: 0.9, valLoss: 0.8 }] },
    ]);
    for (const m of models) expect(ModelVersionSchema.parse(m)).toEqual(m);
    expect(listModels(db, { limit: 1 }).map((m) => m.version)).toEqual([2]);
    expect(planOf(db, MODELS_SQL, [5])).toMatch(/SCAN models/);
  });

  it('shows a damaged or unknown history as an empty curve instead of failing', () => {
    db.prepare("INSERT INTO models (version, created_at, backend, threshold, architecture, history, rounds_trained) VALUES (1, 1, 'cpu', NULL, '{}', 'not json', 0)").run();
    expect(listModels(db, { limit: 5 })[0]!.history).toEqual([]);
    expect(epochsOf([{ loss: 1, valLoss: 2 }, { loss: 'x' }])).toEqual([{ loss: 1, valLoss: 2 }]);
    expect(epochsOf({ at: 1 })).toEqual([]);
    expect(epochsOf(null)).toEqual([]);
  });
});
