import { fork } from 'node:child_process';
import { startWorkerAt } from '../../workerEntry';
import type { ChildMessage, ParentMessage } from './captureProtocol';

/**
 * How the engine starts its capture process and talks to it. Plain Node forks it; the desktop
 * shell cannot (its packaged binary refuses to run as Node, by design: the runAsNode fuse is
 * off), so it passes a launcher built on Electron's utility processes instead. Both carry the
 * same messages.
 */
export interface ChildChannel {
  /** The child's own process; undefined for a thread of this process (threadLauncher). */
  readonly pid: number | undefined;
  /** Messages can still be sent. */
  readonly connected: boolean;
  send(message: ParentMessage): void;
  onMessage(listener: (message: ChildMessage) => void): void;
  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void;
  /** Closes the channel; the child exits when it sees it close. */
  disconnect(): void;
  kill(signal?: NodeJS.Signals): void;
}

export interface LaunchOptions {
  /** Node flags for the child (a TypeScript loader in a checkout). */
  execArgv: string[];
  execPath?: string;
  env?: NodeJS.ProcessEnv;
}

export type ChildLauncher = (entry: string, options: LaunchOptions) => ChildChannel;

/** child_process.fork with an IPC channel and structured-clone messages. */
export const forkLauncher: ChildLauncher = (entry, options) => {
  const child = fork(entry, [], {
    execArgv: options.execArgv,
    execPath: options.execPath,
    env: options.env,
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return {
    get pid() {
      return child.pid;
    },
    get connected() {
      return child.connected;
    },
    send: (message) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => child.on('message', (m) => listener(m as ChildMessage)),
    onExit: (listener) => child.on('exit', listener),
    disconnect: () => {
      if (child.connected) child.disconnect();
    },
    kill: (signal) => child.kill(signal),
  };
};

/**
 * The capture child as a worker thread of this process, for when the capture helper captures:
 * the helper alone then opens the capture and holds the kernel ring, and what is left, decoding
 * its stream, is plain JavaScript with no native binding, which a thread runs as well as a
 * process (a flood keeps the thread's loop busy, not this one's) for a fraction of the memory:
 * a second Node process maps and touches its own ~40 MB of the Node binary, a thread shares this
 * one's (docs/architecture.md, "Footprint at idle"). Cap cannot run in a thread (see README.md),
 * so without a helper the child stays a process. `execArgv` is not used: a `.ts` entry runs
 * under tsx through startWorkerAt.
 */
export const threadLauncher: ChildLauncher = (entry) => {
  const worker = startWorkerAt(entry);
  let connected = true;
  worker.on('exit', () => (connected = false));
  // An exception the child did not catch ends the thread with code 1 (reported through onExit);
  // without a listener it would be thrown in this thread.
  worker.on('error', () => undefined);
  const end = () => {
    connected = false;
    void worker.terminate();
  };
  return {
    pid: undefined,
    get connected() {
      return connected;
    },
    send: (message) => {
      if (connected) worker.postMessage(message);
    },
    onMessage: (listener) => worker.on('message', (m) => listener(m as ChildMessage)),
    onExit: (listener) => worker.on('exit', (code) => listener(code, null)),
    // The child has reported its last message (stopped, off or failed), its capture closed.
    disconnect: end,
    kill: end,
  };
};
