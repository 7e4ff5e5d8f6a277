/**
 * Quality benchmark: a simulated week of a desktop's ports (bench/quality/generator.ts), written
 * through the real RoundStore, detected hour by hour as the scheduler does (score the hour's
 * rounds, then refit), compared with two baselines. Prints one JSON object.
 *   npx tsx bench/quality.ts --json [--days 8] [--ports 65536] [--seed 7] [--backend node|wasm|cpu] [--verbose] [--diagnose]
 * --diagnose prints, before each hour is scored, what the model expects of each injected
 * incident's port and which cells make normal rounds score high (bench/quality/diagnose.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../src/main/engine/store/database';
import { RoundStore } from '../src/main/engine/store/rounds';
import { countConnections } from '../src/main/engine/collect/sockets/types';
import { selectDetectionBackend } from '../src/main/engine/detect/backendChoice';
import { runDetection } from '../src/main/engine/detect/detector';
import { seededRandom } from '../src/shared/random';
import { DEFAULT_EPHEMERAL_UDP } from '../src/main/engine/detect/features';
import { silentLogger, createLogger } from '../src/main/engine/log';
import type { BackendPreference } from '../src/main/engine/detect/backend/selectBackend';
import { generate } from './quality/generator';
import { evaluate, spansOf } from './quality/evaluate';
import { diagnoseHour } from './quality/diagnose';
import { DEFAULT_MODEL_CONFIG } from '../src/main/engine/detect/model';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const days = Number(opt('days', '8'));
const ports = Number(opt('ports', '65536'));
const seed = Number(opt('seed', '7'));
const verbose = args.includes('--verbose');
const diagnose = args.includes('--diagnose');
const HOUR = 3_600_000;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-quality-'));
try {
  const started = performance.now();
  const backend = await selectDetectionBackend(opt('backend', 'node') as BackendPreference);
  const db = openDatabase(path.join(dir, 'portent.db'));
  const rounds = new RoundStore(db);
  // Monday 2 March 2026, local midnight.
  const start = new Date(2026, 2, 2).getTime();
  const learnHours = Number(opt('learn-hours', '24'));
  const { rounds: generated, injected } = generate({ start, days, seed, quietHours: learnHours + 6 });
  const random = seededRandom(seed);
  const log = verbose ? createLogger((l) => process.stderr.write(`${l}\n`), 'debug') : silentLogger;
  const noConnections = countConnections([]);
  let next = 0;
  let fitS = 0;
  let scoreS = 0;
  let runs = 0;
  for (let hourEnd = start + HOUR; hourEnd <= start + days * 24 * HOUR; hourEnd += HOUR) {
    while (next < generated.length && generated[next]!.startedAt < hourEnd) {
      const r = generated[next++]!;
      rounds.record({ host: 'sim', startedAt: r.startedAt, endedAt: r.startedAt + 200, outcome: { sockets: r.sockets, connections: noConnections } });
    }
    if (diagnose) await diagnoseHour(db, path.join(dir, 'model'), { ...DEFAULT_MODEL_CONFIG, ports }, hourEnd - HOUR, hourEnd, injected);
    const res = await runDetection({ db, modelDir: path.join(dir, 'model'), log, backend: backend.name, now: () => hourEnd, random, config: { ports }, minTrainingRounds: learnHours * 60 });
    fitS += res.fitMs / 1000;
    scoreS += res.scoreMs / 1000;
    runs++;
    if (verbose) process.stderr.write(`${new Date(hourEnd).toString().slice(0, 21)} learning=${res.learning.learning} thr=${res.threshold?.toFixed(2)} inc=${res.incidents.length} ep=${res.epochs} ${res.incidents.map((i) => i.sentence).join(' | ')}\n`);
  }

  // Evaluate from the first round scored against a threshold (the end of learning).
  const scores = db
    .prepare<[], { roundId: number; runId: number; startedAt: number; score: number; threshold: number | null; anomalous: number }>(
      `SELECT s.round_id AS roundId, s.run_id AS runId, r.started_at AS startedAt, s.score, s.threshold, s.anomalous
       FROM round_scores s JOIN rounds r ON r.id = s.round_id ORDER BY r.started_at`,
    )
    .all();
  const live = scores.filter((s) => s.threshold !== null);
  const from = live[0]?.startedAt ?? Infinity;
  const evalDays = (start + days * 24 * HOUR - from) / (24 * HOUR);
  const targets = injected.filter((i) => i.start >= from);
  const incidents = db.prepare<[number], { start: number; end: number }>('SELECT started_at AS start, ended_at AS end FROM incidents WHERE started_at >= ? ORDER BY started_at').all(from);

  // Baseline 1, the reference's rule: in each hourly batch the round with the largest error.
  const batchMax = new Map<number, number>();
  for (const s of live) if (!batchMax.has(s.runId) || s.score > live.find((x) => x.roundId === batchMax.get(s.runId))!.score) batchMax.set(s.runId, s.roundId);
  const maxIds = new Set(batchMax.values());
  const reference = spansOf(live.map((s) => ({ startedAt: s.startedAt, flagged: maxIds.has(s.roundId) })));

  // Baseline 2: a round with any (proto, port) never seen before, ephemeral UDP excepted (the
  // same rule Portent's features use; without it the rule alerts on almost every round).
  const [lo, hi] = DEFAULT_EPHEMERAL_UDP;
  const firstSeen = new Set(
    db
      .prepare<[number, number], { t: number }>(`SELECT first_seen_at AS t FROM ports WHERE NOT (proto = 'udp' AND port BETWEEN ? AND ?)`)
      .all(lo, hi)
      .map((r) => r.t),
  );
  const neverSeen = spansOf(live.map((s) => ({ startedAt: s.startedAt, flagged: firstSeen.has(s.startedAt) })));

  const kinds = targets.reduce<Record<string, number>>((m, i) => ({ ...m, [i.kind]: (m[i.kind] ?? 0) + 1 }), {});
  const out = {
    backend: backend.name,
    ports,
    simulated_days: days,
    learning_hours: learnHours,
    evaluated_days: Math.round(evalDays * 100) / 100,
    rounds: generated.length,
    injected: targets.length,
    injected_by_kind: kinds,
    portent: evaluate(incidents, targets, evalDays),
    baseline_batch_max: evaluate(reference, targets, evalDays),
    baseline_never_seen: evaluate(neverSeen, targets, evalDays),
    hourly_runs: runs,
    mean_score_s: Math.round((scoreS / runs) * 1000) / 1000,
    mean_fit_s: Math.round((fitS / runs) * 1000) / 1000,
    total_s: Math.round((performance.now() - started) / 100) / 10,
  };
  if (verbose) {
    for (const i of targets) process.stderr.write(`injected ${i.kind} ${new Date(i.start).toString().slice(0, 21)} ${(i.end - i.start) / 60000}min ${i.what}\n`);
    // Normal rounds scoring high: the calibration pool's tail (inside = within an injected incident).
    for (const s of live.filter((x) => !x.anomalous && x.score > 6)) process.stderr.write(`normal-scored ${new Date(s.startedAt).toString().slice(0, 21)} score=${s.score.toFixed(2)} thr=${s.threshold!.toFixed(2)}${targets.some((i) => s.startedAt >= i.start && s.startedAt <= i.end + 10 * 60_000) ? ' inside' : ''}\n`);
    for (const i of db.prepare<[], { started_at: number; rounds: number; peak_score: number; threshold: number; sentence: string }>('SELECT started_at, rounds, peak_score, threshold, sentence FROM incidents ORDER BY started_at').all()) process.stderr.write(`alert ${new Date(i.started_at).toString().slice(0, 21)} rounds=${i.rounds} peak=${i.peak_score.toFixed(1)} thr=${i.threshold.toFixed(1)} ${i.sentence}\n`);
  }
  db.close();
  console.log(JSON.stringify(out, null, args.includes('--json') ? undefined : 2));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

