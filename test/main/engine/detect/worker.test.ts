import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectInWorker } from '../../../../src/main/engine/detect/detectInWorker';
import { CancelledError } from '../../../../src/main/engine/detect/cancelled';
import { createLogger } from '../../../../src/main/engine/log';
import { openTestDb } from '../../../support/db';
import { RoundStore } from '../../../../src/main/engine/store/rounds';
import { countConnections, type ConnectionEntry } from '../../../../src/main/engine/collect/sockets/types';
import { tempDir } from '../../../support/tmp';
import { listener, MIN, recordRounds, SMALL, T0 } from './support';
import { runDetection } from '../../../../src/main/engine/detect/detector';
import { selectDetectionBackend } from '../../../../src/main/engine/detect/backendChoice';
import { openDatabase } from '../../../../src/main/engine/store/database';
import { seededRandom } from '../../../../src/shared/random';

function prepare(rounds: number) {
  const { db, file } = openTestDb();
  recordRounds(db, T0, rounds, () => [listener(22), listener(80, '/usr/sbin/nginx', 900)]);
  db.close();
  return { dbPath: file, modelDir: path.join(tempDir(), 'model') };
}

describe('detection in a worker thread', () => {
  it('scores and trains off the main thread, which stays responsive', async () => {
    const { dbPath, modelDir } = prepare(90);
    const lines: string[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const started = Date.now();
    const result = await detectInWorker({ dbPath, modelDir, backend: 'wasm', options: { config: SMALL, minTrainingRounds: 60, initialEpochs: 20 }, seed: 1 }, createLogger((l) => lines.push(l))).result;
    const elapsed = Date.now() - started;
    clearInterval(timer);
    expect(result).toMatchObject({ roundsScored: 90, backend: 'wasm', learning: { learning: false, roundsSeen: 90 } });
    expect(result.backendDetail).toMatch(/wasm/);
    // The main thread kept ticking through the whole run (a blocked loop would tick ~never).
    expect(ticks).toBeGreaterThan((elapsed / 10) * 0.25); // generous: CI machines are busy
    expect(lines.some((l) => l.includes('"detection finished"'))).toBe(true);
    const { db } = { db: (await import('../../../../src/main/engine/store/database')).openDatabase(dbPath) };
    expect(db.prepare('SELECT count(*) FROM round_scores').pluck().get()).toBe(90);
    db.close();
  });

  it("runs the traffic model in a thread of its own, after the port model's has exited, with the result one thread gives", async () => {
    // Listeners, and a browser's connections to a few sites, which the traffic model takes in.
    const { db: recording, file: dbPath } = openTestDb();
    const rounds = new RoundStore(recording);
    for (let i = 0; i < 90; i++) {
      const connected: ConnectionEntry[] = [0, 1, 2].map((k) => ({
        proto: 'tcp', family: 4, localAddress: '192.168.1.20', localPort: 40_000 + i * 3 + k, remoteAddress: `198.51.100.${1 + ((i + k) % 5)}`, remotePort: 443,
        state: 'established', pid: 2100, process: 'firefox', exe: '/usr/lib/firefox/firefox', user: 'ann',
      }));
      rounds.record({ host: 'box', startedAt: T0 + i * MIN, endedAt: T0 + i * MIN + 5, outcome: { sockets: [listener(22), listener(80, '/usr/sbin/nginx', 900)], connections: countConnections(connected), connected } });
    }
    recording.close();
    const modelDir = path.join(tempDir(), 'model');
    const copy = path.join(tempDir(), 'copy.db');
    fs.copyFileSync(dbPath, copy);
    const nowMs = T0 + 91 * MIN;
    const options = { config: SMALL, minTrainingRounds: 60, initialEpochs: 5 };
    const lines: { msg: string; worker?: number }[] = [];
    const viaWorkers = await detectInWorker({ dbPath, modelDir, backend: 'wasm', options, seed: 4, nowMs }, createLogger((l) => lines.push(JSON.parse(l) as { msg: string; worker?: number }), 'debug')).result;
    // Two threads chose a backend, one after the other: every line of the first comes before the second's.
    const threads = lines.filter((l) => l.msg === 'tfjs backend selected').map((l) => l.worker);
    expect(threads).toHaveLength(2);
    expect(threads[0]).not.toBe(threads[1]);
    const order = lines.map((l) => l.worker);
    expect(order.lastIndexOf(threads[0])).toBeLessThan(order.indexOf(threads[1]));
    expect(viaWorkers.traffic).toBeDefined();
    expect(viaWorkers.trafficMemory).toBeDefined();

    // The same run in one thread, on a copy of the same database, with the same seed.
    await selectDetectionBackend('wasm');
    const db = openDatabase(copy);
    const threadModelDir = path.join(tempDir(), 'model');
    const inThread = await runDetection({ ...options, db, modelDir: threadModelDir, log: createLogger(() => {}), backend: 'wasm', random: seededRandom(4), now: () => nowMs });
    const workersDb = openDatabase(dbPath);
    const scores = (d: typeof db) => d.prepare('SELECT round_id, score, threshold, anomalous FROM round_scores ORDER BY round_id').all();
    const windows = (d: typeof db) => d.prepare('SELECT * FROM traffic_windows ORDER BY id').all();
    const runs = (d: typeof db) => d.prepare('SELECT status, rounds_scored, incidents, model_version FROM detection_runs').all();
    expect(scores(workersDb)).toEqual(scores(db));
    expect(scores(db)).toHaveLength(90);
    expect(windows(workersDb)).toEqual(windows(db));
    expect(windows(db).length).toBeGreaterThan(0);
    expect(runs(workersDb)).toEqual(runs(db));
    expect(runs(db)).toEqual([{ status: 'ok', rounds_scored: 90, incidents: 0, model_version: 2 }]);
    const untimed = (t: typeof inThread.traffic) => ({ ...t, scoreMs: 0, fitMs: 0 });
    expect(untimed(viaWorkers.traffic)).toEqual(untimed(inThread.traffic));
    // The traffic model each trained, byte for byte.
    const trafficModel = (dir: string) => fs.readFileSync(path.join(path.dirname(dir), 'traffic-model.json'));
    expect(trafficModel(modelDir).equals(trafficModel(threadModelDir))).toBe(true);
    expect(viaWorkers.threshold).toBe(inThread.threshold);
    workersDb.close();
    db.close();
  });

  it('can be cancelled mid-training: the run is recorded as cancelled and no half-trained model is saved', async () => {
    const { dbPath, modelDir } = prepare(200);
    const handle = detectInWorker({ dbPath, modelDir, backend: 'wasm', options: { config: SMALL, initialEpochs: 5000 }, seed: 1 }, createLogger(() => {}));
    // Long enough to be inside training (5,000 epochs would take minutes), then stop.
    await new Promise((r) => setTimeout(r, 3000));
    const asked = Date.now();
    handle.cancel(20_000);
    await expect(handle.result).rejects.toBeInstanceOf(CancelledError);
    expect(Date.now() - asked).toBeLessThan(5000); // stopped cooperatively, not by the kill timer
    const db = (await import('../../../../src/main/engine/store/database')).openDatabase(dbPath);
    expect(db.prepare('SELECT status FROM detection_runs').pluck().all()).toEqual(['cancelled']);
    expect(db.prepare('SELECT count(*) FROM models').pluck().get()).toBe(0); // no half-trained model saved
    db.close();
  });
});
