/**
 * The monitor's side of packet capture: one long-lived capture process (reopening a capture
 * every minute would set up a kernel ring each time), asked for a report at each
 * round so that one report covers exactly the time since the previous round. Capture being off
 * is a state, never an error: rounds go on and record why there is no traffic.
 */
import { threadLauncher, type ChildLauncher } from './childLauncher';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../log';
import type { RoundCapture } from '../../store/captureStore';
import { CaptureError } from './captureErrors';
import { CaptureProcess, type CaptureProcessState } from './captureProcess';
import type { CaptureReport } from './captureSummary';
import { defaultCaptureInterface } from './interfaces';
import { mergeReports } from './mergeReports';
import { DEFAULT_MAX_PACKETS_PER_ROUND } from './packetSample';

export interface CaptureFeedOptions {
  /** Interface to capture on; the default-route interface when absent. */
  iface?: string;
  /** BPF filter expression. */
  filter?: string;
  maxPackets?: number;
  /** Bytes of the kernel ring; liveCapture's DEFAULT_BUFFER_SIZE when absent. */
  bufferSize?: number;
  /** The capture child to fork, and Node flags for it; found beside this module by default. */
  entry?: string;
  execArgv?: string[];
  /**
   * The capture helper the capture process opens its capture with: it alone holds the right to
   * capture (see captureHelper.ts). Absent: the capture process opens it itself, with cap.
   */
  helper?: string;
  /**
   * How to start the capture process (the desktop passes one built on utility processes). By
   * default a thread of this process when a helper captures (threadLauncher), else a Node fork.
   */
  launcher?: ChildLauncher;
  /** How long a round waits for the capture process's report before recording it as late. */
  reportTimeoutMs?: number;
  /** First wait before restarting a capture process that died; doubles up to 30 min. */
  restartAfterMs?: number;
  now?: () => number;
  log: Logger;
}

export interface CaptureStatus {
  state: 'starting' | 'on' | 'off' | 'error';
  iface: string | null;
  message: string | null;
  /** How to turn capture on, when it is off for lack of privileges. */
  remedy: string[];
  /** Times the capture process was started again after it died. */
  restarts?: number;
  /** Why it last died, and when (null: it has not). */
  lastFailure?: { at: number; message: string } | null;
}

const DEFAULT_REPORT_TIMEOUT_MS = 3000;
const DEFAULT_RESTART_AFTER_MS = 60_000;
const MAX_RESTART_AFTER_MS = 30 * 60_000;
/** A capture process that ran this long before it died starts the backoff afresh. */
const HEALTHY_RUN_MS = 60 * 60_000;

/** captureChild beside this module: built JavaScript in a package, TypeScript through tsx in a checkout. */
export function defaultCaptureChild(): { entry: string; execArgv: string[] } {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const js = path.join(here, 'captureChild.js');
  if (existsSync(js)) return { entry: js, execArgv: [] };
  return { entry: path.join(here, 'captureChild.ts'), execArgv: ['--import', 'tsx'] };
}

export class CaptureFeed {
  private process: CaptureProcess | null = null;
  private current: CaptureStatus;
  private started: Promise<unknown> = Promise.resolve();
  private pending: CaptureReport[] = [];
  private waiter: (() => void) | null = null;
  private readonly maxPackets: number;
  /** Set while a capture process that had been capturing is dead: when to try again. */
  private restart: { at: number; delay: number } | null = null;
  /** When the capture process last started capturing (for the backoff's reset). */
  private runningSince: number | null = null;
  private restarts = 0;
  private lastFailure: { at: number; message: string } | null = null;

  constructor(private readonly options: CaptureFeedOptions) {
    this.maxPackets = options.maxPackets ?? DEFAULT_MAX_PACKETS_PER_ROUND;
    this.current = { state: 'starting', iface: options.iface ?? null, message: null, remedy: [] };
  }

  get status(): CaptureStatus {
    return this.current;
  }

  /** How often the capture process was started again after it died, and why it last died. */
  get restartHistory(): { restarts: number; lastFailure: { at: number; message: string } | null } {
    return { restarts: this.restarts, lastFailure: this.lastFailure };
  }

  /** The capture process's pid while it runs (its CPU and memory are not the monitor's). */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Starts the capture process; resolves once it captures or has said why it cannot. */
  start(): Promise<unknown> {
    if (this.process) return this.started;
    const iface = this.options.iface ?? defaultCaptureInterface()?.name;
    if (!iface) {
      const e = new CaptureError('no-default-interface', null, 'packet capture is off: no default interface found (no default route and no non-loopback interface)');
      this.setOff('off', null, e.message, []);
      return this.started;
    }
    this.current = { state: 'starting', iface, message: null, remedy: [] };
    const child = this.options.entry ? { entry: this.options.entry, execArgv: this.options.execArgv ?? [] } : defaultCaptureChild();
    this.process = new CaptureProcess({
      ...child,
      launcher: this.options.launcher ?? (this.options.helper ? threadLauncher : undefined),
      iface,
      filter: this.options.filter,
      ...(this.options.helper ? { helper: this.options.helper } : {}),
      maxPackets: this.maxPackets,
      ...(this.options.bufferSize !== undefined ? { bufferSize: this.options.bufferSize } : {}),
      reportIntervalMs: 0,
      onReport: (r) => {
        this.pending.push(r);
        this.waiter?.();
      },
      onState: (s) => this.onState(s),
    });
    this.started = this.process.start();
    return this.started;
  }

  /**
   * What capture saw since the last call, for the round starting now. Waits for the capture
   * process to start (the first round) and for its report, each at most reportTimeoutMs; a late
   * report is kept for the next round.
   */
  async take(): Promise<RoundCapture> {
    const timeout = this.options.reportTimeoutMs ?? DEFAULT_REPORT_TIMEOUT_MS;
    this.restartIfDue();
    if (this.current.state === 'starting') await within(this.started, timeout);
    const { state, iface, message } = this.current;
    if (state === 'off' || state === 'error') return { state, iface, message: message ?? 'packet capture is off' };
    if (state === 'starting') return { state: 'error', iface, message: 'the capture process has not started yet' };
    const before = this.pending.length;
    if (this.process?.requestReport()) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.waiter = null;
          resolve();
        };
        const timer = setTimeout(done, timeout);
        this.waiter = () => {
          if (this.pending.length > before) done();
        };
      });
    }
    const reports = this.pending;
    this.pending = [];
    if (reports.length === 0) return { state: 'error', iface, message: 'no report from the capture process in time; its traffic goes with the next round' };
    return { state: 'on', iface: iface ?? '', report: mergeReports(reports, this.maxPackets) };
  }

  /**
   * Stops the capture process and returns what it saw since the last take() (its last report,
   * sent as it stops), or null when there is none. Storing it is the caller's choice: it
   * covers time after the last round started, so it belongs to no round yet.
   */
  async stop(): Promise<RoundCapture | null> {
    const p = this.process;
    this.process = null;
    this.waiter?.();
    if (p) await p.stop();
    const reports = this.pending;
    this.pending = [];
    if (reports.length === 0) return null;
    return { state: 'on', iface: this.current.iface ?? '', report: mergeReports(reports, this.maxPackets) };
  }

  private onState(s: CaptureProcessState): void {
    const iface = this.current.iface;
    if (s.state === 'running') {
      if (this.restart) this.restart.at = Number.POSITIVE_INFINITY;
      this.runningSince = this.now();
      this.current = { state: 'on', iface: s.iface, message: null, remedy: [] };
      this.options.log.info('packet capture on', { iface: s.iface, filter: s.filter || null, maxPacketsPerRound: this.maxPackets, pid: this.process?.pid ?? null, helper: this.options.helper ?? null });
    } else if (s.state === 'off') {
      this.setOff('off', s.iface ?? iface, s.message, s.remedy);
    } else if (s.state === 'failed') {
      // A crash in libpcap or the binding, or the process killed, ends only the capture process;
      // it is started again later, less and less often (the wait doubles after each death of a
      // process that ran less than an hour), while off states (permission, bad filter) wait for
      // a restart of the monitor.
      const now = this.now();
      const first = this.options.restartAfterMs ?? DEFAULT_RESTART_AFTER_MS;
      const healthy = this.runningSince !== null && now - this.runningSince >= HEALTHY_RUN_MS;
      const delay = this.restart && !healthy ? Math.min(this.restart.delay * 2, MAX_RESTART_AFTER_MS) : first;
      this.restart = { at: now + delay, delay };
      this.runningSince = null;
      this.lastFailure = { at: now, message: s.message };
      this.setOff('error', iface, `packet capture failed: ${s.message}`, [], { restartInSeconds: Math.ceil(delay / 1000) });
    }
  }

  private restartIfDue(): void {
    if (!this.restart || this.current.state !== 'error' || this.now() < this.restart.at) return;
    this.process = null;
    this.pending = [];
    this.restarts += 1;
    this.options.log.info('starting the capture process again', { restarts: this.restarts, after: this.lastFailure?.message ?? null });
    void this.start();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** The one place capture trouble is logged: once per change of state, not once per round. */
  private setOff(state: 'off' | 'error', iface: string | null, message: string, remedy: string[], fields: Record<string, unknown> = {}): void {
    this.current = { state, iface, message, remedy };
    this.options.log.warn(message, { iface, howToFix: remedy.length ? remedy.join(' ') : undefined, ...fields });
  }
}

function within(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void p.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
