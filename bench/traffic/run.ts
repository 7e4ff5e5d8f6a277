import fs from 'node:fs';
import { openDatabase } from '../../src/main/engine/store/database';
import { beaconVolumeRule, neverSeen } from './baselines';
import { evaluateTraffic, type TrafficDetector, type TrafficMetrics } from './evaluate';
import { labelsOf, readLabels, simulateTraffic, writeLabels, writeTraffic } from './generator';
import { TRAFFIC_KINDS, type TrafficKind } from './incidents';

/**
 * One run of the traffic benchmark: simulate the week, write it into a real database, write the
 * labels next to it, run every detector on the database and score it against the labels read
 * back from that file. The model joins `DETECTORS` when it exists.
 */
export const DETECTORS: Record<string, TrafficDetector> = {
  baseline_never_seen: neverSeen,
  baseline_beacon_volume: beaconVolumeRule,
};

export interface TrafficRun {
  seed: number;
  days: number;
  rounds: number;
  /** Simulating and writing the week, seconds. */
  generate_s: number;
  db_bytes: number;
  rows: Record<string, number>;
  injected: Record<TrafficKind, number>;
  incidents: { id: string; start: string; minutes: number; process: string | null; pid: number | null; remotes: string[]; detail: string }[];
  detectors: Record<string, TrafficMetrics & { alerts_total: number; run_s: number }>;
}

const s1 = (ms: number) => Math.round(ms / 100) / 10;

export const labelsFileOf = (dbPath: string) => `${dbPath}.labels.json`;

export async function runTraffic(o: { seed: number; days: number; dbPath: string; detectors?: Record<string, TrafficDetector>; perKind?: number }): Promise<TrafficRun> {
  for (const f of [o.dbPath, `${o.dbPath}-wal`, `${o.dbPath}-shm`, labelsFileOf(o.dbPath)]) fs.rmSync(f, { force: true });
  const t0 = performance.now();
  const sim = simulateTraffic({ seed: o.seed, days: o.days, perKind: o.perKind });
  const db = openDatabase(o.dbPath);
  try {
    // The file is thrown away (or kept for reading): durability costs half the writing time and changes no row.
    db.pragma('synchronous = OFF');
    writeTraffic(db, sim);
    db.pragma('wal_checkpoint(TRUNCATE)');
    const generateMs = performance.now() - t0;
    writeLabels(labelsFileOf(o.dbPath), labelsOf(sim));
    const labels = readLabels(labelsFileOf(o.dbPath));
    const count = (table: string) => db.prepare<[], number>(`SELECT count(*) FROM ${table}`).pluck().get()!;
    const detectors: TrafficRun['detectors'] = {};
    for (const [name, detect] of Object.entries(o.detectors ?? DETECTORS)) {
      const t = performance.now();
      const alerts = await detect(db, { start: labels.start, end: labels.end, learningEnd: labels.learningEnd, incidents: labels.incidents });
      detectors[name] = { ...evaluateTraffic(alerts, labels.incidents, { from: labels.learningEnd, to: labels.end }), alerts_total: alerts.length, run_s: s1(performance.now() - t) };
    }
    return {
      seed: o.seed,
      days: o.days,
      rounds: labels.rounds,
      generate_s: s1(generateMs),
      db_bytes: fs.statSync(o.dbPath).size,
      rows: Object.fromEntries(['rounds', 'connection_spans', 'remote_endpoints', 'flows', 'packets'].map((t) => [t, count(t)])),
      injected: Object.fromEntries(TRAFFIC_KINDS.map((k) => [k, labels.incidents.filter((i) => i.kind === k).length])) as Record<TrafficKind, number>,
      incidents: labels.incidents.map((i) => ({ id: i.id, start: new Date(i.start).toISOString(), minutes: Math.round((i.end - i.start) / 60_000), process: i.process, pid: i.pid, remotes: i.remotes, detail: i.detail })),
      detectors,
    };
  } finally {
    db.close();
  }
}
