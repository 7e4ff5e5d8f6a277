import { parentPort, workerData } from 'node:worker_threads';
import { openDatabase } from '../store/database';
import type { Logger, LogFields } from '../log';
import { selectDetectionBackend } from './backendChoice';
import { fullCollection } from './fullCollection';
import { runPortPhase, runTrafficPhase, type DetectorOptions } from './detector';
import { seededRandom } from '../../../shared/random';
import type { WorkerInput, WorkerMemory, WorkerMessage } from './workerProtocol';
import * as tf from './tf';

/**
 * The detection worker: owns its own database connection (WAL lets it read and write while the
 * main process keeps collecting rounds) and its own tf engine, so nothing here blocks the
 * process that draws the tray and window.
 */
const input = workerData as WorkerInput;
const port = parentPort!;
const flag = new Int32Array(input.cancel);
const post = (m: WorkerMessage) => port.postMessage(m);
const log: Logger = Object.fromEntries(
  (['debug', 'info', 'warn', 'error'] as const).map((level) => [level, (msg: string, fields?: LogFields) => post({ type: 'log', level, msg, fields })]),
) as unknown as Logger;

/** What this thread holds at the end of its run (workerProtocol.ts, WorkerMemory). */
function memory(): WorkerMemory {
  const wasm = (tf.backend() as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  const m = process.memoryUsage();
  return { wasmHeapBytes: wasm?.HEAPU8?.buffer.byteLength ?? null, jsHeapBytes: m.heapUsed, arrayBuffersBytes: m.arrayBuffers };
}

try {
  const backend = await selectDetectionBackend(input.backend ?? 'node', log);
  const db = openDatabase(input.dbPath, input.migrationsDir ? { migrationsDir: input.migrationsDir } : {});
  try {
    const options: DetectorOptions = {
      ...input.options,
      db,
      modelDir: input.modelDir,
      log,
      backend: backend.name,
      // The traffic part goes on with the port part's seeded stream where it left it, so that a
      // seed gives the same run in two threads as in one.
      random:
        input.part === 'traffic' && input.portPhase?.randomState != null
          ? seededRandom(input.portPhase.randomState)
          : input.seed === undefined
            ? undefined
            : seededRandom(input.seed),
      now: input.nowMs === undefined ? undefined : () => input.nowMs!,
      shouldStop: () => Atomics.load(flag, 0) === 1,
      onRun: (runId) => post({ type: 'run', runId }),
      collectGarbage: fullCollection(),
    };
    if (input.part === 'ports') {
      const phase = await runPortPhase(options);
      post({ type: 'ports', phase, backendDetail: backend.detail, memory: memory() });
    } else {
      if (!input.portPhase) throw new Error('the traffic part of a detection needs where the port model left the run');
      const result = await runTrafficPhase(options, input.portPhase);
      post({ type: 'result', result, backendDetail: backend.detail, memory: memory() });
    }
  } finally {
    db.close();
  }
} catch (err) {
  const e = err as Error;
  post({ type: 'error', name: e.name, message: e.message });
}
