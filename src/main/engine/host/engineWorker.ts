/**
 * The engine's thread: the Monitor and every query the window or the tray asks for, with their
 * synchronous SQLite work, run here, so that the thread drawing the tray and answering IPC (or
 * HTTP) never waits on the database. Started by EngineClient; see hostProtocol.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Handlers } from '../../../shared/contract';
import { createEngineApi } from '../api';
import type { ChildChannel, ChildLauncher } from '../collect/capture/childLauncher';
import type { ChildMessage } from '../collect/capture/captureProtocol';
import { createLogger } from '../log';
import { Monitor } from '../monitor';
import { createMetrics, type EngineMetrics } from '../metrics';
import type { EngineWorkerOptions, FromEngine, ToEngine } from './hostProtocol';

const port = parentPort;
if (!port) throw new Error('engineWorker must run in a worker thread started by EngineClient');
const options = workerData as EngineWorkerOptions;
const post = (message: FromEngine): void => port.postMessage(message);

const log = createLogger((line) => post({ type: 'log', line }));

/**
 * A capture process started by the hosting thread on the engine's behalf: Electron's utility
 * processes can only be started from its main process. Messages are relayed both ways.
 */
const channels = new Map<number, { pid: number | undefined; connected: boolean; message: ((m: ChildMessage) => void)[]; exit: ((code: number | null, signal: NodeJS.Signals | null) => void)[] }>();
let nextChannel = 1;
const relayLauncher: ChildLauncher = (entry, launchOptions) => {
  const id = nextChannel++;
  const state = { pid: undefined as number | undefined, connected: true, message: [] as ((m: ChildMessage) => void)[], exit: [] as ((code: number | null, signal: NodeJS.Signals | null) => void)[] };
  channels.set(id, state);
  post({ type: 'capture-launch', channel: id, entry, options: launchOptions });
  const channel: ChildChannel = {
    get pid() {
      return state.pid;
    },
    get connected() {
      return state.connected;
    },
    send: (message) => {
      if (state.connected) post({ type: 'capture-send', channel: id, message });
    },
    onMessage: (listener) => void state.message.push(listener),
    onExit: (listener) => void state.exit.push(listener),
    disconnect: () => {
      if (!state.connected) return;
      state.connected = false;
      post({ type: 'capture-disconnect', channel: id });
    },
    kill: (signal) => post({ type: 'capture-kill', channel: id, ...(signal ? { signal } : {}) }),
  };
  return channel;
};

let monitor: Monitor;
let handlers: Handlers;
let metrics: EngineMetrics | null = null;
try {
  monitor = new Monitor({
    dbPath: options.dbPath,
    migrationsDir: options.migrationsDir,
    roundSeconds: options.roundSeconds,
    detectEvery: options.detectEvery,
    capture: options.capture,
    captureHelper: options.captureHelper,
    log,
    ...(options.relayCapture ? { captureLauncher: relayLauncher } : {}),
  });
  monitor.on('changed', () => post({ type: 'changed' }));
  monitor.on('incidents', (incidents) => post({ type: 'incidents', incidents }));
  monitor.on('report', (notice) => post({ type: 'report', notice }));
  monitor.start();
  handlers = createEngineApi(monitor);
  post({ type: 'started' });
} catch (err) {
  post({ type: 'start-failed', name: err instanceof Error ? err.name : 'Error', message: err instanceof Error ? err.message : String(err) });
  port.close();
  throw err;
}

port.on('message', (m: ToEngine) => {
  switch (m.type) {
    case 'call':
      void (async () => {
        try {
          // Arguments were checked against the contract where they arrived (IPC, HTTP).
          const handler = handlers[m.method] as (...a: unknown[]) => unknown;
          post({ type: 'result', id: m.id, ok: true, value: await handler(...m.args) });
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          post({ type: 'result', id: m.id, ok: false, name: e.name, message: e.message });
        }
      })();
      return;
    case 'metrics':
      void (async () => {
        try {
          metrics ??= createMetrics(monitor);
          post({ type: 'result', id: m.id, ok: true, value: await metrics.text() });
        } catch (err) {
          const e = err instanceof Error ? err : new Error(String(err));
          post({ type: 'result', id: m.id, ok: false, name: e.name, message: e.message });
        }
      })();
      return;
    case 'stop':
      void monitor
        .stop()
        .catch((err: unknown) => log.error('engine did not stop cleanly', { error: String(err) }))
        .finally(() => {
          post({ type: 'stopped' });
          // Ends this thread only, once the messages above are on their way.
          setImmediate(() => process.exit(0));
        });
      return;
    case 'capture-message':
      for (const listener of channels.get(m.channel)?.message ?? []) listener(m.message);
      return;
    case 'capture-pid': {
      const c = channels.get(m.channel);
      if (c) c.pid = m.pid;
      return;
    }
    case 'capture-exit': {
      const c = channels.get(m.channel);
      if (!c) return;
      c.connected = false;
      channels.delete(m.channel);
      for (const listener of c.exit) listener(m.code, m.signal);
      return;
    }
  }
});
