import type { Worker } from 'node:worker_threads';
import { startWorkerBeside } from '../workerEntry';
import type { Logger } from '../log';
import { openDatabase } from '../store/database';
import { markDeadRun } from '../store/interrupted';
import type { DetectionResult } from './detector';
import { CancelledError } from './cancelled';
import type { WorkerInput, WorkerMemory, WorkerMessage } from './workerProtocol';

export interface DetectionHandle {
  result: Promise<DetectionResult & { backendDetail: string; memory: WorkerMemory }>;
  /**
   * Asks the worker to stop at its next batch boundary (nothing half-written: scores and the
   * model are each saved in one step); if it has not stopped after `graceMs`, it is terminated.
   */
  cancel(graceMs?: number): void;
  /** The worker's thread id, for logs. */
  threadId: number;
}

/** The detection worker, `worker.ts`/`.js` beside this module (see workerEntry.ts). */
function startWorker(workerData: WorkerInput): Worker {
  return startWorkerBeside(import.meta.url, 'worker', workerData);
}

/**
 * Ends the run a worker left running when its thread died (terminated, crashed, out of memory)
 * before it could end the run itself, so the run says so instead of staying 'running'.
 */
function endDeadRun(input: Omit<WorkerInput, 'cancel'>, runId: number, status: 'failed' | 'cancelled', why: string, log: Logger): void {
  try {
    const db = openDatabase(input.dbPath, input.migrationsDir ? { migrationsDir: input.migrationsDir } : {});
    try {
      if (markDeadRun(db, runId, input.nowMs ?? Date.now(), status, why)) log.warn('detection run ended: its worker thread died before finishing', { runId, status, error: why });
    } finally {
      db.close();
    }
  } catch (err) {
    log.warn('could not mark the detection run whose worker died; it is marked at the next start', { runId, error: (err as Error).message });
  }
}

export function detectInWorker(input: Omit<WorkerInput, 'cancel'>, log: Logger): DetectionHandle {
  const cancel = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancel);
  const worker = startWorker({ ...input, cancel });
  let killTimer: NodeJS.Timeout | undefined;
  let cancelled = false;
  /** The run the worker recorded, once it said so. */
  let runId: number | null = null;
  const result = new Promise<DetectionResult & { backendDetail: string; memory: WorkerMemory }>((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(killTimer);
      f();
    };
    // The thread died without a result or an error of its own: the run it started ends here.
    const died = (err: Error) =>
      settle(() => {
        if (runId !== null) endDeadRun(input, runId, cancelled ? 'cancelled' : 'failed', err.message, log);
        reject(cancelled ? new CancelledError() : err);
      });
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'log') log[m.level](m.msg, { ...m.fields, worker: worker.threadId });
      else if (m.type === 'run') runId = m.runId;
      else if (m.type === 'result') settle(() => resolve({ ...m.result, backendDetail: m.backendDetail, memory: m.memory }));
      else settle(() => reject(m.name === 'CancelledError' ? new CancelledError() : Object.assign(new Error(m.message), { name: m.name })));
    });
    worker.on('error', (err) => died(new Error(`the detection worker failed: ${err.message}; the model in use stays the one from before this run`)));
    worker.on('exit', (code) => died(new Error(`the detection worker stopped before finishing (exit code ${code}); the model in use stays the one from before this run`)));
  });
  return {
    result,
    threadId: worker.threadId,
    cancel(graceMs = 5_000) {
      cancelled = true;
      Atomics.store(flag, 0, 1);
      killTimer ??= setTimeout(() => void worker.terminate(), graceMs);
    },
  };
}
