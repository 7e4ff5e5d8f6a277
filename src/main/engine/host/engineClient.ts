/**
 * The engine, run in its own worker thread and reached through a typed RPC: the contract's
 * Handlers, each call a message to the engine's thread and its answer a message back (the way
 * Signal Desktop keeps SQLite off the thread that draws). The hosting thread (Electron's main
 * process with the tray and IPC, or `portent serve` with its HTTP server) does no database work,
 * so a long query cannot delay a click.
 */
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { startWorkerBeside } from '../workerEntry';
import { METHOD_NAMES, type Handlers, type MethodName } from '../../../shared/contract';
import type { ChildChannel, ChildLauncher } from '../collect/capture/childLauncher';
import type { MonitorEvents } from '../monitor';
import type { EngineWorkerOptions, FromEngine, ToEngine } from './hostProtocol';

export interface EngineClientOptions extends Omit<EngineWorkerOptions, 'relayCapture'> {
  /** Where the engine's log lines go (already formatted JSON lines). */
  logLine: (line: string) => void;
  /**
   * Starts the capture process from this thread (the desktop passes Electron's utility
   * processes, which only its main process can start). Absent: the engine forks it itself.
   */
  captureLauncher?: ChildLauncher;
}

/** The engine's worker entry, `engineWorker.ts`/`.js` beside this module (see workerEntry.ts). */
function startWorker(workerData: EngineWorkerOptions): Worker {
  return startWorkerBeside(import.meta.url, 'engineWorker', workerData);
}

/**
 * Why the engine could not start (a damaged or newer database, another monitor on it, ...):
 * the engine thread's error, by name and message, for the user.
 */
export class EngineStartError extends Error {
  override readonly name = 'EngineStartError';
  constructor(
    message: string,
    /** The name of the error the engine's thread raised (DatabaseOpenError, MonitorBusyError, ...). */
    readonly engineError: string,
  ) {
    super(message);
  }
}

export interface EngineClientEvents extends MonitorEvents {
  /** The engine's thread ended without being asked to stop (a crash): the host should say so and end. */
  failed: [Error];
}

export class EngineClient extends EventEmitter<EngineClientEvents> {
  /** Every contract method, answered by the engine's thread. */
  readonly handlers: Handlers;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly channels = new Map<number, ChildChannel>();
  private nextId = 1;
  private exited: Error | null = null;
  private stopping: Promise<void> | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly options: EngineClientOptions,
  ) {
    super();
    const handlers: Partial<Record<MethodName, (...args: unknown[]) => Promise<unknown>>> = {};
    for (const method of METHOD_NAMES) handlers[method] = (...args: unknown[]) => this.call(method, args);
    this.handlers = handlers as unknown as Handlers;
  }

  /** Starts the engine's thread; resolves once the monitor runs, rejects with why it could not start. */
  static start(options: EngineClientOptions): Promise<EngineClient> {
    const { logLine: _logLine, captureLauncher, ...monitorOptions } = options;
    const worker = startWorker({ ...monitorOptions, relayCapture: captureLauncher !== undefined });
    const client = new EngineClient(worker, options);
    return new Promise((resolve, reject) => {
      let started = false;
      worker.on('message', (m: FromEngine) => {
        if (m.type === 'started') {
          started = true;
          resolve(client);
        } else if (m.type === 'start-failed') {
          reject(new EngineStartError(m.message, m.name));
        } else client.onMessage(m);
      });
      worker.on('error', (err) => {
        // The thread's own error can arrive before its start-failed message: the same failure.
        if (!started) reject(new EngineStartError(err.message, err.name));
        else options.logLine(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'engine thread failed', error: err.message }));
      });
      worker.on('exit', (code) => {
        client.exited = new Error(`the engine's thread ended (exit code ${code})`);
        for (const p of client.pending.values()) p.reject(client.exited);
        client.pending.clear();
        for (const c of client.channels.values()) c.kill();
        client.channels.clear();
        if (!started) reject(client.exited);
        else if (!client.stopping) client.emit('failed', client.exited);
      });
    });
  }

  /**
   * Stops the monitor (a round in progress finishes its transaction) and ends the engine's
   * thread. Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      if (this.exited) return resolve();
      this.worker.once('exit', () => resolve());
      this.post({ type: 'stop' });
    });
    return this.stopping;
  }

  /** The engine's metrics in the Prometheus text format (see metrics.ts). */
  metrics(): Promise<string> {
    return this.request('metrics', (id) => ({ type: 'metrics', id })) as Promise<string>;
  }

  private call(method: MethodName, args: unknown[]): Promise<unknown> {
    return this.request(method, (id) => ({ type: 'call', id, method, args }));
  }

  private request(what: string, message: (id: number) => ToEngine): Promise<unknown> {
    if (this.exited) return Promise.reject(this.exited);
    if (this.stopping) return Promise.reject(new Error(`Portent's engine is stopping; ${what} was not run`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post(message(id));
    });
  }

  private post(message: ToEngine): void {
    this.worker.postMessage(message);
  }

  private onMessage(m: FromEngine): void {
    switch (m.type) {
      case 'result': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.ok) p.resolve(m.value);
        else p.reject(Object.assign(new Error(m.message), { name: m.name }));
        return;
      }
      case 'log':
        this.options.logLine(m.line);
        return;
      case 'changed':
        this.emit('changed');
        return;
      case 'incidents':
        this.emit('incidents', m.incidents);
        return;
      case 'report':
        this.emit('report', m.notice);
        return;
      case 'capture-launch':
        this.launchCapture(m.channel, m.entry, m.options);
        return;
      case 'capture-send':
        this.channels.get(m.channel)?.send(m.message);
        return;
      case 'capture-disconnect':
        this.channels.get(m.channel)?.disconnect();
        return;
      case 'capture-kill':
        this.channels.get(m.channel)?.kill(m.signal);
        return;
      case 'stopped':
        return;
    }
  }

  private launchCapture(id: number, entry: string, options: Parameters<ChildLauncher>[1]): void {
    const launcher = this.options.captureLauncher;
    if (!launcher) return;
    const channel = launcher(entry, options);
    this.channels.set(id, channel);
    let pid = channel.pid;
    this.post({ type: 'capture-pid', channel: id, pid });
    channel.onMessage((message) => {
      if (channel.pid !== pid) {
        pid = channel.pid;
        this.post({ type: 'capture-pid', channel: id, pid });
      }
      this.post({ type: 'capture-message', channel: id, message });
    });
    channel.onExit((code, signal) => {
      this.channels.delete(id);
      if (!this.exited) this.post({ type: 'capture-exit', channel: id, code, signal });
    });
  }
}
