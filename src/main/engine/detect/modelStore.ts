import fs from 'node:fs';
import path from 'node:path';
import * as tf from './tf';
import { buildModel, type ModelConfig } from './model';
import { OccupancyBlocks } from './occupancyBlocks';
import { isHourCounts, type HourCounts } from './hourProfile';

/**
 * Saves and loads the model as a folder: `model.json` (topology, weight specs and Portent's
 * metadata) and `weights.bin`. Without tfjs-node there is no file:// handler, hence this one.
 * A save writes a fresh temp folder and renames it into place, so a crash leaves either the old
 * model or the new one, never half of each.
 */
export const MODEL_FORMAT = 'portent-cnn-lstm-ae';
export const MODEL_FORMAT_VERSION = 1;

export interface ModelMeta {
  format: typeof MODEL_FORMAT;
  formatVersion: number;
  version: number;
  createdAt: number;
  backend: string;
  config: ModelConfig;
  /** null while learning. */
  threshold: number | null;
  thresholdMethod: string | null;
  /** Training windows the model has been fitted on over its life (a replayed round counts each time). */
  roundsTrained: number;
  /**
   * Rounds of history the model has taken in (scored, then refitted on or counted as normal):
   * what the learning period counts. Absent in models saved before it was kept apart from
   * `roundsTrained`, which then held this number.
   */
  roundsSeen?: number;
  /**
   * The newest round the model has taken in: the next refit learns from every round scored
   * after it. Absent in models saved before rounds could be scored between refits.
   */
  trainedThrough?: number;
  /** Per refit, per epoch (`windows`: how many windows the epoch trained on). */
  history: { at: number; epochs: { loss: number; valScore: number; windows?: number }[] }[];
  /** The counted hour-of-day profile scoring uses (absent in models saved before it existed). */
  hourCounts?: HourCounts;
}

class FolderHandler implements tf.io.IOHandler {
  constructor(
    private readonly dir: string,
    private readonly meta?: ModelMeta,
  ) {}

  async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
    if (!this.meta) throw new Error('no metadata to save');
    const weights = artifacts.weightData ? Buffer.from(tf.io.CompositeArrayBuffer.join(artifacts.weightData)) : Buffer.alloc(0);
    const json = { meta: this.meta, modelTopology: artifacts.modelTopology, weightSpecs: artifacts.weightSpecs ?? [], weightBytes: weights.byteLength };
    const parent = path.dirname(this.dir);
    fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
    const tmp = fs.mkdtempSync(path.join(parent, `.${path.basename(this.dir)}.tmp-`));
    try {
      writeDurable(path.join(tmp, 'weights.bin'), weights);
      writeDurable(path.join(tmp, 'model.json'), Buffer.from(JSON.stringify(json)));
      const old = `${this.dir}.old-${process.pid}-${Date.now()}`;
      if (fs.existsSync(this.dir)) fs.renameSync(this.dir, old);
      fs.renameSync(tmp, this.dir);
      fs.rmSync(old, { recursive: true, force: true });
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
  }

  async load(): Promise<tf.io.ModelArtifacts> {
    const json = JSON.parse(fs.readFileSync(path.join(this.dir, 'model.json'), 'utf8')) as { modelTopology: object; weightSpecs: tf.io.WeightsManifestEntry[]; weightBytes: number };
    const weights = fs.readFileSync(path.join(this.dir, 'weights.bin'));
    const expected = json.weightSpecs.reduce((n, s) => n + 4 * s.shape.reduce((a, b) => a * b, 1), 0);
    if (weights.byteLength !== json.weightBytes || weights.byteLength !== expected) {
      throw new Error(`weights.bin has ${weights.byteLength} bytes, the model needs ${expected}`);
    }
    const data = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
    return { modelTopology: json.modelTopology, weightSpecs: json.weightSpecs, weightData: data };
  }
}

function writeDurable(file: string, data: Buffer): void {
  const fd = fs.openSync(file, 'w', 0o600);
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export async function saveModel(dir: string, model: tf.LayersModel, meta: ModelMeta): Promise<void> {
  await model.save(new FolderHandler(dir, meta), { includeOptimizer: false });
}

export type LoadResult = { model: tf.LayersModel; meta: ModelMeta } | { model: null; reason: string };

/**
 * Loads the model saved in `dir` if it is whole and built for `config`; otherwise says why, so
 * the caller can log it and start a new one. Never throws for a bad model folder.
 */
export async function loadModel(dir: string, config: ModelConfig): Promise<LoadResult> {
  if (!fs.existsSync(path.join(dir, 'model.json'))) return { model: null, reason: 'no saved model' };
  let meta: ModelMeta;
  try {
    meta = (JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as { meta: ModelMeta }).meta;
  } catch (err) {
    return { model: null, reason: `model.json is unreadable: ${(err as Error).message}` };
  }
  if (meta?.format !== MODEL_FORMAT || meta.formatVersion !== MODEL_FORMAT_VERSION) {
    return { model: null, reason: `model format ${String(meta?.format)} v${String(meta?.formatVersion)} is not ${MODEL_FORMAT} v${MODEL_FORMAT_VERSION}` };
  }
  const mismatch = (Object.keys(config) as (keyof ModelConfig)[]).filter((k) => meta.config?.[k] !== config[k]);
  if (mismatch.length > 0) return { model: null, reason: `saved model was built with a different ${mismatch.join(', ')}` };
  // Models saved while the strided convolutions could also be tf's Conv1D still record `front`:
  // 'blocks' is the model built today; any other value means Conv1D layers, which wasm cannot train.
  const front = (meta.config as { front?: unknown } | undefined)?.front;
  if (front !== undefined && front !== 'blocks') return { model: null, reason: `saved model was built with the '${String(front)}' front, which Portent no longer builds` };
  if (meta.hourCounts !== undefined && !isHourCounts(meta.hourCounts)) return { model: null, reason: 'model.json has malformed hour-of-day counts' };
  try {
    const model = await tf.loadLayersModel(new FolderHandler(dir));
    return { model: withOccupancyBlocks(model, config), meta };
  } catch (err) {
    return { model: null, reason: `saved model is damaged: ${(err as Error).message}` };
  }
}

/**
 * A model saved before `block_conv` became an OccupancyBlocks layer (until 6 Dec 2026 it was a
 * Dense, with the same weights) comes back as that Dense: its weights move into the model built
 * today, which trains the same way, faster. Throws when the weights do not fit.
 */
function withOccupancyBlocks(model: tf.LayersModel, config: ModelConfig): tf.LayersModel {
  if (model.getLayer('block_conv') instanceof OccupancyBlocks) return model;
  const today = buildModel(config);
  try {
    const weights = model.getWeights();
    const wanted = today.getWeights();
    const misfit = wanted.findIndex((w, i) => !weights[i] || w.shape.join() !== weights[i]!.shape.join());
    if (misfit >= 0 || weights.length !== wanted.length) throw new Error(`its weights do not fit the model (weight ${misfit >= 0 ? misfit : wanted.length})`);
    today.setWeights(weights);
    return today;
  } catch (err) {
    today.dispose();
    throw err;
  } finally {
    model.dispose();
  }
}

/** Moves a bad model folder aside (kept for inspection, replaced at the next save). */
export function discardModel(dir: string): void {
  if (!fs.existsSync(dir)) return;
  const aside = `${dir}.discarded`;
  fs.rmSync(aside, { recursive: true, force: true });
  fs.renameSync(dir, aside);
}
