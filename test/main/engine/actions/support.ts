import { spawn, type ChildProcess } from 'node:child_process';
import { readProcess, type LiveProcess } from '../../../../src/main/engine/actions/processIdentity';

/** Children a test started, ended after it whatever happened. */
export const started: ChildProcess[] = [];

export function endChildren(): void {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

/** Resolves once `pid` is a process whose executable is `exe` (after the exec of a wrapper such as setpriv). */
export async function settled(pid: number, exe: string): Promise<LiveProcess> {
  for (let i = 0; i < 100; i++) {
    const p = readProcess(pid);
    if (p?.exe === exe) return p;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`pid ${pid} never ran ${exe}`);
}

/** A real `sleep 60`, once it runs. */
export async function sleeper(args: { as?: 'nobody' } = {}): Promise<{ child: ChildProcess; live: LiveProcess; exit: Promise<NodeJS.Signals | null> }> {
  const child = args.as === 'nobody' ? spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '/usr/bin/sleep', '60']) : spawn('/usr/bin/sleep', ['60']);
  started.push(child);
  const exit = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  return { child, live: await settled(child.pid!, '/usr/bin/sleep'), exit };
}

/** A real Node process that ignores SIGTERM, once its handler is installed. */
export async function stubborn(): Promise<{ child: ChildProcess; live: LiveProcess; exit: Promise<NodeJS.Signals | null> }> {
  const child = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000);"]);
  started.push(child);
  const exit = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  return { child, live: readProcess(child.pid!)!, exit };
}

export const alive = (pid: number): boolean => readProcess(pid) !== null;
