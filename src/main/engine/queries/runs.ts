import type { Db } from '../store/database';
import type { DetectionRun, ModelVersion } from '../../../shared/contract';

/**
 * The detections (score, refit, recalibrate), newest first. The 'score' runs after each round
 * that changed what listens only score what is waiting; their incidents are in the incident list
 * and their scores in the score chart, and listing each would bury the hourly runs.
 */
export const RUNS_SQL = `SELECT id, trigger, started_at AS startedAt, ended_at AS endedAt, status, rounds_scored AS roundsScored, incidents,
  backend, model_version AS modelVersion, error FROM detection_runs WHERE scope = 'full' ORDER BY started_at DESC, id DESC LIMIT ?`;

export const MODELS_SQL = `SELECT version, created_at AS createdAt, backend, threshold, rounds_trained AS roundsTrained, history
  FROM models ORDER BY version DESC LIMIT ?`;

/** The newest detection runs first. */
export function listDetectionRuns(db: Db, args: { limit: number }): DetectionRun[] {
  return db.prepare<[number], DetectionRun>(RUNS_SQL).all(args.limit);
}

type Epoch = ModelVersion['history'][number];

/**
 * The detector stores, per version, the refit that produced it as `{ at, epochs: [{ loss,
 * valScore }] }`, where valScore is the mean loss of the held-out windows (absent or not finite
 * when nothing was held out). A bare array of epochs is read too; anything else reads as no
 * history rather than failing the whole list.
 */
export function epochsOf(history: unknown): Epoch[] {
  const epochs = Array.isArray(history) ? history : (history as { epochs?: unknown } | null)?.epochs;
  if (!Array.isArray(epochs)) return [];
  return epochs.flatMap((e: { loss?: unknown; valScore?: unknown; valLoss?: unknown } | null) => {
    if (typeof e?.loss !== 'number' || !Number.isFinite(e.loss)) return [];
    const val = e.valLoss ?? e.valScore;
    return [{ loss: e.loss, valLoss: typeof val === 'number' && Number.isFinite(val) ? val : null }];
  });
}

/** The newest model versions first, each with the loss curve of the refit that made it. */
export function listModels(db: Db, args: { limit: number }): ModelVersion[] {
  const rows = db.prepare<[number], Omit<ModelVersion, 'history'> & { history: string }>(MODELS_SQL).all(args.limit);
  return rows.map((r) => {
    let history: unknown = null;
    try {
      history = JSON.parse(r.history);
    } catch {
      // A damaged history row shows as an empty curve; the version itself is still listed.
    }
    return { ...r, history: epochsOf(history) };
  });
}
