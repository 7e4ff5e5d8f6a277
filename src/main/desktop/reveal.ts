import type { Handlers, IncidentDetail, MethodResult } from '../../shared/contract';

/**
 * "Show the executable" for the desktop app: the engine cannot open a file manager (it runs in
 * its own thread, and headless there is none), so the shell replaces the engine's
 * revealExecutable with one that finds the path the incident recorded for the process and hands
 * it to Electron's shell.showItemInFolder. The decisions are pure functions, tested without
 * Electron (which cannot be launched on the machines that run the tests).
 */

type RevealResult = MethodResult<'revealExecutable'>;

/** The executable to show for one of an incident's processes, or why there is none. */
export function revealTarget(incident: Pick<IncidentDetail, 'id' | 'processes' | 'ports' | 'program'>, pid: number): RevealResult {
  const exe = incident.processes.find((p) => p.pid === pid)?.exe ?? incident.ports.find((p) => p.pid === pid)?.exe ?? null;
  const named = incident.processes.some((p) => p.pid === pid) || incident.ports.some((p) => p.pid === pid);
  if (!named) return { ok: false, reason: `incident ${incident.id} names no process with pid ${pid}` };
  if (exe === null) return { ok: false, reason: `Portent could not read the executable of pid ${pid} (another user's process?)` };
  // The kernel marks a deleted executable so; there is no file left to show.
  if (exe.endsWith(' (deleted)')) return { ok: false, reason: `${exe.slice(0, -' (deleted)'.length)} was deleted after the process started` };
  if (!exe.startsWith('/')) return { ok: false, reason: `the recorded executable ${exe} is not a path` };
  return { ok: true, path: exe };
}

export interface DesktopShell {
  exists(path: string): boolean;
  showItemInFolder(path: string): void;
}

/** The engine's handlers with the desktop's own revealExecutable. */
export function withDesktopActions(handlers: Handlers, shell: DesktopShell): Handlers {
  return {
    ...handlers,
    revealExecutable: async (id, pid) => {
      const target = revealTarget(await handlers.getIncident(id), pid);
      if (!target.ok) return target;
      if (!shell.exists(target.path)) return { ok: false, reason: `${target.path} no longer exists` };
      shell.showItemInFolder(target.path);
      return target;
    },
  };
}
