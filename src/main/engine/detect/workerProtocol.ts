import type { LogFields, LogLevel } from '../log';
import type { BackendPreference } from './backend/selectBackend';
import type { DetectionResult, DetectorOptions, PortPhase } from './detector';

/** What can cross the thread boundary: plain data only (no db handle, logger or callbacks). */
export type SerializableDetectorOptions = Omit<DetectorOptions, 'db' | 'modelDir' | 'log' | 'backend' | 'random' | 'shouldStop' | 'now' | 'onRun'>;

export interface WorkerInput {
  dbPath: string;
  migrationsDir?: string;
  modelDir: string;
  backend?: BackendPreference;
  options: SerializableDetectorOptions;
  /** Fixed "now" for simulated time (benchmarks); real time otherwise. */
  nowMs?: number;
  seed?: number;
  /** Int32 flag: 1 = stop at the next batch boundary. */
  cancel: SharedArrayBuffer;
  /**
   * Which part of the run this thread does: 'ports' records the run and runs the port model, then
   * tells its PortPhase; 'traffic' goes on from that phase with the traffic model and finishes the run.
   */
  part: 'ports' | 'traffic';
  /** For part 'traffic': where the port model left the run. */
  portPhase?: PortPhase;
}

export type WorkerMessage =
  | { type: 'log'; level: LogLevel; msg: string; fields?: LogFields }
  /** The run's row exists: if the thread dies from here on, the parent ends the run. */
  | { type: 'run'; runId: number }
  | { type: 'result'; result: DetectionResult; backendDetail: string; memory: WorkerMemory }
  /** Part 'ports' is done: the run goes on in a traffic thread unless `phase.done`. */
  | { type: 'ports'; phase: PortPhase; backendDetail: string; memory: WorkerMemory }
  | { type: 'error'; name: string; message: string };

/**
 * The worker's memory at the end of its run: the wasm backend's heap (it grows and never shrinks,
 * so this is its peak; null on other backends), the worker's JS heap and the array buffers
 * outside it. Logged and reported so that a run's footprint can be told apart by owner.
 */
export interface WorkerMemory {
  wasmHeapBytes: number | null;
  jsHeapBytes: number;
  arrayBuffersBytes: number;
}
