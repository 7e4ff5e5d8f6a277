import { readProcess, type LiveProcess } from './processIdentity';
import type { IncidentAction } from '../../../shared/contract';

/**
 * Stopping an incident's process (docs/actions.md): only the very process the incident recorded,
 * told apart from a later one with the same pid by its start time and executable, and only one
 * the monitor's user may signal. SIGTERM first; SIGKILL once it has not exited after the grace
 * period, counted in checks so that the outcome never depends on how busy the machine is.
 */

/** What the incident recorded about the process. */
export interface RecordedProcess {
  pid: number;
  /** Null: not recorded, so it cannot be told from a later process; never signalled. */
  startTicks: number | null;
  exe: string | null;
}

export interface StopPolicy {
  /** The uid the monitor runs as. */
  monitorUid: number;
  /** A monitor running as root may signal other users' processes (setting actions.rootMayStopOthers). */
  rootMayStopOthers: boolean;
  /** Pids never signalled whoever owns them: init, and the monitor itself and its parent. */
  protectedPids: readonly number[];
}

export type StopOutcome = IncidentAction['outcome'];

/** Why a process may not be signalled, or null when it may. Pure, so every rule is tested without a process. */
export function refusal(recorded: RecordedProcess, live: LiveProcess, policy: StopPolicy): string | null {
  if (recorded.startTicks === null) return `Portent did not record when pid ${recorded.pid} started, so it cannot tell it from a later process given the same pid`;
  if (live.startTicks !== recorded.startTicks) {
    return `pid ${recorded.pid} now belongs to another process (${live.exe ?? live.name ?? 'unknown'}, started at tick ${live.startTicks}, not ${recorded.startTicks}): the incident's process has ended and its pid was reused`;
  }
  if (policy.protectedPids.includes(live.pid)) return `pid ${live.pid} is ${live.pid === 1 ? 'the init process' : 'Portent itself or what started it'}, which Portent never signals`;
  if (live.uid === null) return `the owner of pid ${live.pid} cannot be read`;
  if (live.uid !== policy.monitorUid && !(policy.monitorUid === 0 && policy.rootMayStopOthers)) {
    return policy.monitorUid === 0
      ? `pid ${live.pid} belongs to uid ${live.uid}, not to root, which Portent runs as; stopping other users' processes is off (setting actions.rootMayStopOthers)`
      : `pid ${live.pid} belongs to uid ${live.uid}, not to uid ${policy.monitorUid}, which Portent runs as`;
  }
  if (recorded.exe !== null && live.exe !== recorded.exe) {
    return live.exe === null
      ? `the executable of pid ${live.pid} cannot be read, so it cannot be checked against ${recorded.exe}`
      : `pid ${live.pid} now runs ${live.exe}, not ${recorded.exe} as recorded`;
  }
  return null;
}

export interface StopOptions {
  policy: StopPolicy;
  /** Checks after SIGTERM before SIGKILL (a grace period in seconds is graceChecks × checkEveryMs). */
  graceChecks: number;
  checkEveryMs?: number;
  /** Checks after SIGKILL before giving up (default 50). */
  killChecks?: number;
  read?: (pid: number) => LiveProcess | null;
  signal?: (pid: number, signal: 'SIGTERM' | 'SIGKILL') => void;
  sleep?: (ms: number) => Promise<void>;
}

export interface StopResult {
  outcome: StopOutcome;
  detail: string;
}

const same = (a: LiveProcess | null, recorded: RecordedProcess): boolean => a !== null && a.startTicks === recorded.startTicks;

function describe(live: LiveProcess): string {
  return `${live.exe ?? live.name ?? 'process'} (pid ${live.pid})`;
}

export async function stopProcess(recorded: RecordedProcess, o: StopOptions): Promise<StopResult> {
  const read = o.read ?? ((pid: number) => readProcess(pid));
  const signal = o.signal ?? ((pid: number, sig: 'SIGTERM' | 'SIGKILL') => void process.kill(pid, sig));
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const every = o.checkEveryMs ?? 100;
  const live = read(recorded.pid);
  if (live === null) return { outcome: 'gone', detail: `pid ${recorded.pid} had already ended` };
  const why = refusal(recorded, live, o.policy);
  if (why !== null) return { outcome: 'refused', detail: why };
  const who = describe(live);
  const send = (sig: 'SIGTERM' | 'SIGKILL'): StopResult | null => {
    try {
      signal(recorded.pid, sig);
      return null;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ESRCH') return { outcome: sig === 'SIGTERM' ? 'gone' : 'sigterm', detail: sig === 'SIGTERM' ? `${who} had already ended` : `${who} ended on SIGTERM` };
      return { outcome: 'refused', detail: `the system refused to send ${sig} to ${who}: ${code ?? (err as Error).message}` };
    }
  };
  const early = send('SIGTERM');
  if (early) return early;
  for (let i = 0; i < o.graceChecks; i++) {
    await sleep(every);
    if (!same(read(recorded.pid), recorded)) return { outcome: 'sigterm', detail: `${who} ended on SIGTERM` };
  }
  // Checked again right before SIGKILL: it is still the same process (same start time).
  if (!same(read(recorded.pid), recorded)) return { outcome: 'sigterm', detail: `${who} ended on SIGTERM` };
  const late = send('SIGKILL');
  if (late) return late;
  for (let i = 0; i < (o.killChecks ?? 50); i++) {
    await sleep(every);
    if (!same(read(recorded.pid), recorded)) return { outcome: 'sigkill', detail: `${who} did not end within ${o.graceChecks} checks of SIGTERM and was ended by SIGKILL` };
  }
  return { outcome: 'failed', detail: `${who} is still running after SIGKILL (it may be stuck in the kernel)` };
}
