import { Worker } from 'node:worker_threads';
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

/**
 * The worker entry next to this file. Built, it is plain .js. Under tsx (tests, the CLI) it is
 * the .ts source, and Node 20 does not apply `--import tsx` from a Worker's execArgv to the
 * worker's entry module, so a one-line bootstrap registers tsx's loader in the worker first and
 * then imports the entry.
 */
function startWorker(workerData: WorkerInput): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), { workerData });
  const api = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
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
