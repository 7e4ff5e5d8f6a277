import type { Worker } from 'node:worker_threads';
import { startWorkerBeside } from '../workerEntry';
import type { Logger } from '../log';
import type { DetectionResult } from './detector';
import { CancelledError } from './cancelled';
import type { WorkerInput, WorkerMessage } from './workerProtocol';

export interface DetectionHandle {
  result: Promise<DetectionResult & { backendDetail: string }>;
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

export function detectInWorker(input: Omit<WorkerInput, 'cancel'>, log: Logger): DetectionHandle {
  const cancel = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancel);
  const worker = startWorker({ ...input, cancel });
  let killTimer: NodeJS.Timeout | undefined;
  let cancelled = false;
  const result = new Promise<DetectionResult & { backendDetail: string }>((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(killTimer);
      f();
    };
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'log') log[m.level](m.msg, { ...m.fields, worker: worker.threadId });
      else if (m.type === 'result') settle(() => resolve({ ...m.result, backendDetail: m.backendDetail }));
      else settle(() => reject(m.name === 'CancelledError' ? new CancelledError() : Object.assign(new Error(m.message), { name: m.name })));
    });
    worker.on('error', (err) => settle(() => reject(err)));
    worker.on('exit', (code) => settle(() => reject(cancelled ? new CancelledError() : new Error(`detection worker exited with code ${code} before finishing`))));
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
