import * as tf from '../../src/main/engine/detect/tf';
import type { Db } from '../../src/main/engine/store/database';
import { DetectionStore, type RoundRef } from '../../src/main/engine/store/detectionStore';
import { CHANNELS, readFeatures, type RoundFeatures } from '../../src/main/engine/detect/features';
import { batchTensors, makeBatch, windowSpan, type ModelConfig } from '../../src/main/engine/detect/model';
import { loadModel } from '../../src/main/engine/detect/modelStore';
import { emptyHourCounts, HourProfile } from '../../src/main/engine/detect/hourProfile';
import { scoringLogits } from '../../src/main/engine/detect/training';
import { sigmoid, softplus, topCells } from '../../src/main/engine/detect/score';
import { windowsFor } from '../../src/main/engine/detect/windows';
import type { Injected } from './generator';

/**
 * `bench/quality.ts --diagnose`: before an hour is scored, looks through the model that will
 * score it. For each injected incident starting in the hour, the model's expected occupancy of
 * the incident's port at its onset and the next rounds, the cell's error, the round's score and
 * the threshold; for an unusual-hour incident, the same at the port's latest usual onset (what
 * the model expects when the service starts at its normal time). Also the top cells of every
 * normal round scoring above half the threshold: what drives the calibration pool. Lines go
 * to stderr.
 */
const MIN = 60_000;

interface Probe {
  round: RoundRef;
  features: RoundFeatures[];
  window: number[];
}

async function logitsOf(model: tf.LayersModel, config: ModelConfig, probes: readonly Probe[], profile: HourProfile): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const p of probes) {
    const batch = makeBatch(p.features, [p.window], config);
    const { x, y } = batchTensors(batch, config);
    const z = scoringLogits(model, x, [p.features[p.window[p.window.length - 1]!]!], config.ports * CHANNELS, profile);
    out.push((await z.data()) as Float32Array);
    tf.dispose([...x, y, z]);
  }
  return out;
}

function probeFor(db: Db, store: DetectionStore, round: RoundRef, config: ModelConfig, maxStepMs: number): Probe {
  const w = windowSpan(config);
  const chain = [...store.roundsBefore(round.startedAt, w - 1), round];
  const features = readFeatures(db, chain, { ports: config.ports });
  return { round, features, window: windowsFor(chain, w, maxStepMs, chain.length - 1)[0]! };
}

const fmt = (t: number) => new Date(t).toString().slice(0, 21);

function portOf(inc: Injected): { port: number; proto: 'tcp' | 'udp' } | null {
  const spec = JSON.parse(inc.what) as { port?: number; proto?: 'tcp' | 'udp'; service?: string };
  if (inc.kind === 'unusual-hour') return { port: spec.service === 'backup' ? 8200 : 3000, proto: 'tcp' };
  if (spec.port !== undefined) return { port: spec.port, proto: spec.proto ?? 'tcp' };
  return null;
}

/** The latest round before `before` at which (proto, port) turned on after being off. */
function lastOnset(db: Db, port: number, proto: string, before: number, injected: readonly Injected[]): RoundRef | null {
  const rows = db
    .prepare<[number, number], RoundRef>(
      `SELECT r.id, r.started_at AS startedAt FROM round_sockets rp JOIN rounds r ON r.id = rp.round_id
       WHERE rp.port_id = ? AND r.started_at < ? ORDER BY r.started_at`,
    )
    .all(db.prepare<[number, string], number>('SELECT id FROM ports WHERE port = ? AND proto = ?').pluck().get(port, proto) ?? -1, before);
  for (let i = rows.length - 1; i >= 0; i--) {
    const onset = i === 0 || rows[i]!.startedAt - rows[i - 1]!.startedAt > 1.5 * MIN;
    const duringIncident = injected.some((inc) => rows[i]!.startedAt >= inc.start && rows[i]!.startedAt < inc.end);
    if (onset && !duringIncident) return rows[i]!;
  }
  return null;
}

export async function diagnoseHour(db: Db, modelDir: string, config: ModelConfig, hourStart: number, hourEnd: number, injected: readonly Injected[], maxStepMs = 150_000): Promise<void> {
  const loaded = await loadModel(modelDir, config);
  if (!loaded.model) return;
  const { model, meta } = loaded;
  const thr = meta.threshold;
  const profile = new HourProfile(meta.hourCounts ?? emptyHourCounts());
  const store = new DetectionStore(db);
  const cells = config.ports * CHANNELS;
  const say = (s: string) => process.stderr.write(`diag ${s}\n`);
  try {
    for (const inc of injected.filter((i) => i.start >= hourStart && i.start < hourEnd)) {
      const pp = portOf(inc);
      const rounds = db.prepare<[number, number], RoundRef>('SELECT id, started_at AS startedAt FROM rounds WHERE started_at >= ? AND started_at < ? ORDER BY started_at').all(inc.start, Math.min(inc.end, inc.start + 3 * MIN));
      const probes = rounds.map((r) => probeFor(db, store, r, config, maxStepMs));
      const usual = inc.kind === 'unusual-hour' && pp ? lastOnset(db, pp.port, pp.proto, inc.start, injected) : null;
      if (usual) probes.push(probeFor(db, store, usual, config, maxStepMs));
      const logits = await logitsOf(model, config, probes, profile);
      probes.forEach((p, i) => {
        const z = logits[i]!;
        const target = p.features[p.window[p.window.length - 1]!]!;
        const top = topCells(z, target.active, cells, 3);
        // A port beyond the axis, or a UDP port the features count rather than place, has no cell.
        const cell = pp && pp.port < config.ports && !(pp.proto === 'udp' && pp.port >= 32_768) ? pp.port * CHANNELS + (pp.proto === 'tcp' ? 0 : 1) : -1;
        const occ = cell >= 0 && target.active.includes(cell);
        const portText = cell >= 0 ? `port ${pp!.port}/${pp!.proto} occ=${occ} p=${sigmoid(z[cell]!).toExponential(2)} err=${(occ ? softplus(-z[cell]!) : softplus(z[cell]!)).toFixed(2)}` : '';
        const label = usual && p.round === usual ? 'usual-onset' : `+${Math.round((p.round.startedAt - inc.start) / MIN)}min`;
        say(`${inc.kind} ${fmt(inc.start)} ${label} @${fmt(p.round.startedAt)} ${portText} score=${top[0]?.error.toFixed(2)} thr=${thr?.toFixed(2)} (${meta.thresholdMethod}) top=${top.map((c) => `${c.port}/${c.proto}${c.occupied ? '+' : '-'}:p=${c.expected.toExponential(1)},e=${c.error.toFixed(1)}`).join(' ')}`);
      });
    }
    if (thr !== null) {
      // Normal rounds of this hour that score near the threshold: what the calibration pool sees.
      const hour = db.prepare<[number, number], RoundRef>('SELECT id, started_at AS startedAt FROM rounds WHERE started_at >= ? AND started_at < ? ORDER BY started_at').all(hourStart, hourEnd);
      const quiet = hour.filter((r) => !injected.some((i) => r.startedAt >= i.start && r.startedAt <= i.end + 10 * MIN));
      const probes = quiet.map((r) => probeFor(db, store, r, config, maxStepMs));
      const logits = await logitsOf(model, config, probes, profile);
      probes.forEach((p, i) => {
        const target = p.features[p.window[p.window.length - 1]!]!;
        const top = topCells(logits[i]!, target.active, cells, 3);
        if ((top[0]?.error ?? 0) > thr / 2) say(`normal-high @${fmt(p.round.startedAt)} score=${top[0]!.error.toFixed(2)} thr=${thr.toFixed(2)} top=${top.map((c) => `${c.port}/${c.proto}${c.occupied ? '+' : '-'}:p=${c.expected.toExponential(1)},e=${c.error.toFixed(1)}`).join(' ')}`);
      });
    }
  } finally {
    model.dispose();
  }
}
