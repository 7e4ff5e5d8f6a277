import { fork } from 'node:child_process';
import type { ChildMessage, ParentMessage } from './captureProtocol';

/**
 * How the engine starts its capture process and talks to it. Plain Node forks it; the desktop
 * shell cannot (its packaged binary refuses to run as Node, by design: the runAsNode fuse is
 * off), so it passes a launcher built on Electron's utility processes instead. Both carry the
 * same messages.
 */
export interface ChildChannel {
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
