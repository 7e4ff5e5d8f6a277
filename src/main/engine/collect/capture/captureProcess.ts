/**
 * The engine's handle on the capture process. Capture runs in a child process so that neither
 * a packet flood (cap decodes on the loop that hosts it, for as long as packets keep coming)
 * nor a crash inside libpcap or the binding can stall or end the process that draws the tray
 * and window. Only interval reports cross the process boundary.
 */
import type { CaptureOffState } from './captureErrors';
import type { CaptureStartOptions, ParentMessage } from './captureProtocol';
import { forkLauncher, type ChildChannel, type ChildLauncher } from './childLauncher';
import type { CaptureReport } from './captureSummary';

export type CaptureProcessState =
  | { state: 'idle' }
  | { state: 'starting' }
  | { state: 'running'; iface: string; filter: string; linkType: number; snaplen: number }
  | ({ state: 'off' } & Omit<CaptureOffState, 'capturing'>)
  | { state: 'stopped' }
  | { state: 'failed'; message: string };

export interface CaptureProcessOptions extends CaptureStartOptions {
  /** The built captureChild module to run. */
  entry: string;
  /** Node flags for the child (e.g. a TypeScript loader in development). */
  execArgv?: string[];
  /** The executable; Electron passes its own binary with ELECTRON_RUN_AS_NODE=1 in env. */
  execPath?: string;
  env?: NodeJS.ProcessEnv;
  /** How to start the child: a Node fork unless the shell says otherwise. */
  launcher?: ChildLauncher;
  onReport: (report: CaptureReport) => void;
  onState?: (state: CaptureProcessState) => void;
}

const STOP_TIMEOUT_MS = 5000;

export class CaptureProcess {
  private child: ChildChannel | null = null;
  private current: CaptureProcessState = { state: 'idle' };

  constructor(private readonly options: CaptureProcessOptions) {}

  get state(): CaptureProcessState {
    return this.current;
  }

  /** The capture process's pid while it runs (for resource accounting). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Resolves once the capture runs, or is off (permission, bad filter, ...) or failed. */
  start(): Promise<CaptureProcessState> {
    if (this.child) return Promise.resolve(this.current);
    const { entry, execArgv, execPath, env, launcher, onReport, onState: _onState, ...startOptions } = this.options;
    const child = (launcher ?? forkLauncher)(entry, { execArgv: execArgv ?? [], execPath, env });
    this.child = child;
    this.setState({ state: 'starting' });
    return new Promise((resolve) => {
      child.onMessage((m) => {
        if (m.type === 'report') return onReport(m.report);
        if (m.type === 'started') this.setState({ state: 'running', iface: m.iface, filter: m.filter, linkType: m.linkType, snaplen: m.snaplen });
        else if (m.type === 'off') this.setState({ state: 'off', kind: m.state.kind, iface: m.state.iface, message: m.state.message, remedy: m.state.remedy });
        else if (m.type === 'failed') this.setState({ state: 'failed', message: m.message });
        else if (m.type === 'stopped') this.setState({ state: 'stopped' });
        if (m.type !== 'stopped') resolve(this.current);
        if (m.type === 'off' || m.type === 'failed' || m.type === 'stopped') child.disconnect();
      });
      child.onExit((code, signal) => {
        this.child = null;
        if (this.current.state === 'starting' || this.current.state === 'running') {
          this.setState({ state: 'failed', message: `capture process exited (${signal ?? `code ${code}`})` });
        }
        resolve(this.current);
      });
      this.send({ type: 'start', options: startOptions });
    });
  }

  /** Asks for the report of the interval so far; it arrives through onReport. False when no capture runs. */
  requestReport(): boolean {
    if (this.current.state !== 'running' || !this.child?.connected) return false;
    this.send({ type: 'report' });
    return true;
  }

  /** Stops the capture; the last report arrives before this resolves. */
  stop(): Promise<void> {
    const child = this.child;
    if (!child) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      child.onExit(() => {
        clearTimeout(kill);
        resolve();
      });
      if (child.connected) this.send({ type: 'stop' });
      else child.kill();
    });
  }

  private send(message: ParentMessage): void {
    this.child?.send(message);
  }

  private setState(state: CaptureProcessState): void {
    this.current = state;
    this.options.onState?.(state);
  }
}
