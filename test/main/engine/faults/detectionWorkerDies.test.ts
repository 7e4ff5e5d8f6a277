import path from 'node:path';
import type * as WorkerThreads from 'node:worker_threads';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Monitor } from '../../../../src/main/engine/monitor';
import { createLogger } from '../../../../src/main/engine/log';
import { tempDir } from '../../../support/tmp';
import { eventually, linesWith } from './support';

/**
 * Every worker thread the engine starts, so the test can end the detection worker's thread the
 * way the runtime ends one that crashed: Worker.terminate() stops its JavaScript wherever it is
 * and exits the thread, with no chance to clean up. Nothing in the engine changes for the test.
 */
const started = vi.hoisted(() => [] as Worker[]);
vi.mock('node:worker_threads', async (importOriginal) => {
  const real = await importOriginal<typeof WorkerThreads>();
  class Watched extends real.Worker {
    constructor(...args: ConstructorParameters<typeof real.Worker>) {
      super(...args);
      started.push(this);
    }
  }
  return { ...real, Worker: Watched, default: { ...real, Worker: Watched } };
});

const MIN = 60_000;
const monitors: Monitor[] = [];
afterEach(async () => {
  for (const m of monitors.splice(0)) await m.stop();
});

describe.runIf(process.platform === 'linux')('the detection worker dies mid-training', () => {
  it('keeps the previous model in use, records the run as failed with why, and the next detection carries on from that model', async () => {
    let t = Date.UTC(2026, 2, 1, 12, 0, 0);
    const lines: string[] = [];
    const monitor = new Monitor({ dbPath: path.join(tempDir(), 'portent.db'), log: createLogger((l) => lines.push(l), 'debug'), roundSeconds: 60, capture: false, now: () => t });
    monitors.push(monitor);
    monitor.start();
    const rounds = async (n: number) => {
      for (let i = 0; i < n; i++) {
        t += MIN;
        await monitor.collectNow();
      }
    };
    const db = monitor.db;

    await rounds(10);
    const first = await monitor.detectNow()!;
    const kept = first.modelVersion;
    expect(kept).toBeGreaterThan(0);
    const seenBefore = first.learning.roundsSeen;

    // A second detection on more rounds; its thread is ended once it has stored its scores and
    // is refitting the model (rounds scored by the run, the run still going).
    await rounds(40);
    const second = monitor.detectNow()!;
    const rejected = second.then(
      () => null,
      (err: unknown) => err as Error,
    );
    const runId = (): number | undefined => db.prepare<[], number>("SELECT id FROM detection_runs WHERE status = 'running' ORDER BY id DESC LIMIT 1").pluck().get();
    const refitting = () => {
      const id = runId();
      return id !== undefined && id > first.runId && (db.prepare('SELECT count(*) FROM round_scores WHERE run_id = ?').pluck().get(id) as number) > 0;
    };
    expect(await eventually(refitting, 3000, 10)).toBe(true);
    const killedRun = runId()!;
    await started.at(-1)!.terminate();

    const err = await rejected;
    expect(err?.message).toMatch(/^the detection worker stopped before finishing \(exit code 1\); the model in use stays the one from before this run$/);
    const run = db.prepare('SELECT status, error, ended_at AS endedAt, started_at AS startedAt FROM detection_runs WHERE id = ?').get(killedRun) as {
      status: string;
      error: string;
      endedAt: number | null;
      startedAt: number;
    };
    expect(run).toMatchObject({ status: 'failed', error: err!.message });
    expect(run.endedAt).toBeGreaterThanOrEqual(run.startedAt);
    expect(linesWith(lines, 'detection run ended: its worker thread died before finishing')).toHaveLength(1);

    // The model in use is still the first one.
    const status = monitor.status();
    expect(status.model.version).toBe(kept);
    expect(status.detection).toMatchObject({ running: false, lastRunStatus: 'failed' });
    expect(db.prepare('SELECT max(version) FROM models').pluck().get()).toBe(kept);

    // The next detection loads it and goes on: the rounds it saw before count, nothing is lost.
    t += MIN;
    const third = await monitor.detectNow()!;
    expect(third.modelVersion).toBe(kept + 1);
    expect(third.learning.roundsSeen).toBeGreaterThan(seenBefore);
    expect(db.prepare('SELECT status FROM detection_runs WHERE id = ?').pluck().get(third.runId)).toBe('ok');
  }, 180_000);
});
