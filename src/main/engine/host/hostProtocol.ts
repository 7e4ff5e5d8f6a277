/**
 * Messages between the engine's thread (engineWorker.ts) and the thread that hosts it
 * (EngineClient: the desktop's main process, or `portent serve`). Everything crosses by
 * structured clone; nothing here holds a function.
 */
import type { MethodName } from '../../../shared/contract';
import type { ChildMessage, ParentMessage } from '../collect/capture/captureProtocol';
import type { LaunchOptions } from '../collect/capture/childLauncher';
import type { IncidentRow } from '../store/detectionStore';
import type { ReportNotice } from '../monitor';

/** The Monitor's options that can cross a thread (its logger and launcher cannot: see below). */
export interface EngineWorkerOptions {
  dbPath: string;
  migrationsDir?: string;
  roundSeconds?: number;
  detectEvery?: number;
  capture?: false | { iface?: string; filter?: string };
  captureHelper?: string | null;
  /** The capture process is started by the hosting thread (the desktop's utility processes). */
  relayCapture: boolean;
}

export type ToEngine =
  | { type: 'call'; id: number; method: MethodName; args: unknown[] }
  /** The Prometheus exposition text (metrics.ts), answered with a result. */
  | { type: 'metrics'; id: number }
  | { type: 'stop' }
  | { type: 'capture-message'; channel: number; message: ChildMessage }
  | { type: 'capture-pid'; channel: number; pid: number | undefined }
  | { type: 'capture-exit'; channel: number; code: number | null; signal: NodeJS.Signals | null };

export type FromEngine =
  | { type: 'started' }
  | { type: 'start-failed'; name: string; message: string }
  | { type: 'stopped' }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; name: string; message: string }
  /** One log line, already formatted, for the host's log file and stderr. */
  | { type: 'log'; line: string }
  | { type: 'changed' }
  | { type: 'incidents'; incidents: IncidentRow[] }
  | { type: 'report'; notice: ReportNotice }
  | { type: 'capture-launch'; channel: number; entry: string; options: LaunchOptions }
  | { type: 'capture-send'; channel: number; message: ParentMessage }
  | { type: 'capture-disconnect'; channel: number }
  | { type: 'capture-kill'; channel: number; signal?: NodeJS.Signals };
