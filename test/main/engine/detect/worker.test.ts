import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectInWorker } from '../../../../src/main/engine/detect/detectInWorker';
import { CancelledError } from '../../../../src/main/engine/detect/cancelled';
import { createLogger } from '../../../../src/main/engine/log';
import { openTestDb } from '../../../support/db';
import { tempDir } from '../../../support/tmp';
import { listener, recordRounds, SMALL, T0 } from './support';

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
