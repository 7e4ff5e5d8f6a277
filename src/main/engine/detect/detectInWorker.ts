import type { Worker } from 'node:worker_threads';
import { startWorkerBeside } from '../workerEntry';
import type { Logger } from '../log';
import { openDatabase } from '../store/database';
import { markDeadRun } from '../store/interrupted';
import type { DetectionResult, PortPhase } from './detector';
import { CancelledError } from './cancelled';
import type { WorkerInput, WorkerMemory, WorkerMessage } from './workerProtocol';

export interface DetectionHandle {
  /**
   * The run's result. `memory` is the port model's thread's account at its end, `trafficMemory`
   * the traffic model's (absent when that model is off).
   */
  result: Promise<DetectionResult & { backendDetail: string; memory: WorkerMemory; trafficMemory?: WorkerMemory }>;
  /**
   * Asks the worker to stop at its next batch boundary (nothing half-written: scores and the
   * model are each saved in one step); if it has not stopped after `graceMs`, it is terminated.
   */
  cancel(graceMs?: number): void;
}

/** What a detection is started with: the workers' input but for what detectInWorker adds itself. */
export type DetectionInput = Omit<WorkerInput, 'cancel' | 'part' | 'portPhase'>;

/** The detection worker, `worker.ts`/`.js` beside this module (see workerEntry.ts). */
function startWorker(workerData: WorkerInput): Worker {
  return startWorkerBeside(import.meta.url, 'worker', workerData);
}

/**
 * Ends the run a worker left running when its thread died (terminated, crashed, out of memory)
 * before it could end the run itself, so the run says so instead of staying 'running'.
 */
function endDeadRun(input: DetectionInput, runId: number, status: 'failed' | 'cancelled', why: string, log: Logger, said = 'detection run ended: its worker thread died before finishing'): void {
  try {
    const db = openDatabase(input.dbPath, input.migrationsDir ? { migrationsDir: input.migrationsDir } : {});
    try {
      if (markDeadRun(db, runId, input.nowMs ?? Date.now(), status, why)) log.warn(said, { runId, status, error: why });
    } finally {
      db.close();
    }
  } catch (err) {
    log.warn('could not mark the detection run whose worker died; it is marked at the next start', { runId, error: (err as Error).message });
  }
}

/**
 * Runs one detection off the calling thread, in two worker threads one after the other: the port
 * model in the first (it records the run), then, once that thread has exited, the traffic model in
 * the second, which finishes the run. The traffic model's reading then does not come on top of
 * what the port model's thread held (the wasm heap, which never shrinks, and the JS heap of its
 * reads and batches), all of which goes with the thread; the run's peak is the larger of the two
 * parts' instead of their sum (docs/detection.md, "Memory, third pass").
 */
export function detectInWorker(input: DetectionInput, log: Logger): DetectionHandle {
  const cancel = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancel);
  let current: Worker | null = null;
  let killTimer: NodeJS.Timeout | undefined;
  let cancelled = false;
  /** The run the worker recorded, once it said so. */
  let runId: number | null = null;
  type Outcome = { kind: 'ports'; phase: PortPhase; backendDetail: string; memory: WorkerMemory } | { kind: 'result'; result: DetectionResult; backendDetail: string; memory: WorkerMemory };

  /** Runs one part in a thread of its own; settles once that thread has exited. */
  const runPart = (part: 'ports' | 'traffic', portPhase?: PortPhase) =>
    new Promise<Outcome>((resolve, reject) => {
      const worker = startWorker({ ...input, cancel, part, ...(portPhase ? { portPhase } : {}) });
      current = worker;
      let outcome: Outcome | null = null;
      let failure: Error | null = null;
      // A thread that has told its outcome ends by itself; one that does not is stopped.
      let exitTimer: NodeJS.Timeout | undefined;
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'log') log[m.level](m.msg, { ...m.fields, worker: worker.threadId });
        else if (m.type === 'run') runId = m.runId;
        else {
          if (m.type === 'ports') outcome = { kind: 'ports', phase: m.phase, backendDetail: m.backendDetail, memory: m.memory };
          else if (m.type === 'result') outcome = { kind: 'result', result: m.result, backendDetail: m.backendDetail, memory: m.memory };
          else failure = m.name === 'CancelledError' ? new CancelledError() : Object.assign(new Error(m.message), { name: m.name });
          exitTimer = setTimeout(() => void worker.terminate(), THREAD_EXIT_MS);
        }
      });
      /** An uncaught error of the thread (it dies of it). */
      let crash: Error | null = null;
      worker.on('error', (err) => {
        crash ??= new Error(`the detection worker failed: ${err.message}; the model in use stays the one from before this run`);
      });
      worker.on('exit', (code) => {
        clearTimeout(exitTimer);
        if (current === worker) current = null;
        if (failure) reject(failure);
        else if (outcome) resolve(outcome);
        // The thread died without a result or an error of its own: the run it started ends here.
        else {
          const why = crash ?? new Error(`the detection worker stopped before finishing (exit code ${code}); the model in use stays the one from before this run`);
          if (runId !== null) endDeadRun(input, runId, cancelled ? 'cancelled' : 'failed', why.message, log);
          reject(cancelled ? new CancelledError() : why);
        }
      });
    });

  const result = (async () => {
    try {
      const ports = await runPart('ports');
      if (ports.kind !== 'ports') throw new Error('the detection worker answered its port part with a whole result');
      if (ports.phase.done) return { ...ports.phase.result, backendDetail: ports.backendDetail, memory: ports.memory };
      // Asked to stop between the two parts: no traffic thread is started, and the run ends here.
      if (cancelled) {
        endDeadRun(input, ports.phase.result.runId, 'cancelled', 'cancelled before the traffic model ran', log, 'detection run cancelled between the port and the traffic model');
        throw new CancelledError();
      }
      const traffic = await runPart('traffic', ports.phase);
      if (traffic.kind !== 'result') throw new Error('the detection worker answered its traffic part without a result');
      return { ...traffic.result, backendDetail: ports.backendDetail, memory: ports.memory, trafficMemory: traffic.memory };
    } finally {
      clearTimeout(killTimer);
    }
  })();
  return {
    result,
    cancel(graceMs = 5_000) {
      cancelled = true;
      Atomics.store(flag, 0, 1);
      killTimer ??= setTimeout(() => void current?.terminate(), graceMs);
    },
  };
}

/** How long a thread that has told its outcome may take to exit before it is stopped. */
const THREAD_EXIT_MS = 10_000;
