import { describe, expect, it } from 'vitest';
import { revealTarget, withDesktopActions } from '../../../src/main/desktop/reveal';
import { METHOD_NAMES, type Handlers } from '../../../src/shared/contract';
import { ncIncident } from '../../support/incidentDetail';

/**
 * "Show the executable" as the desktop shell wires it. Electron cannot be launched on the
 * machines that run these tests, so the wiring is tested as pure functions: the path chosen and
 * what is handed to a shell whose showItemInFolder records the call instead of opening a window.
 */

function engine(): Handlers {
  const h = Object.fromEntries(METHOD_NAMES.map((m) => [m, () => 'engine'])) as unknown as Handlers;
  return { ...h, getIncident: (id) => ({ ...ncIncident(), id }) };
}

describe('show the executable in the file manager', () => {
  it('shows the executable the incident recorded for the process', async () => {
    const shown: string[] = [];
    const api = withDesktopActions(engine(), { exists: () => true, showItemInFolder: (p) => void shown.push(p) });
    await expect(api.revealExecutable(7, 4242)).resolves.toEqual({ ok: true, path: '/usr/bin/nc' });
    expect(shown).toEqual(['/usr/bin/nc']);
    // Every other method is the engine's own.
    expect(api.getStatus()).toBe('engine');
  });

  it('says why not, and opens nothing, for a pid the incident does not name, a deleted or missing file, or an unreadable executable', async () => {
    const shown: string[] = [];
    const api = withDesktopActions(engine(), { exists: (p) => p !== '/usr/bin/nc', showItemInFolder: (p) => void shown.push(p) });
    await expect(api.revealExecutable(7, 4242)).resolves.toEqual({ ok: false, reason: '/usr/bin/nc no longer exists' });
    await expect(api.revealExecutable(7, 1)).resolves.toEqual({ ok: false, reason: 'incident 7 names no process with pid 1' });
    expect(shown).toEqual([]);
    const processes = (exe: string | null) => ncIncident({ processes: [{ ...ncIncident().processes[0]!, exe }], ports: [] });
    expect(revealTarget(processes('/tmp/x (deleted)'), 4242)).toEqual({ ok: false, reason: '/tmp/x was deleted after the process started' });
    expect(revealTarget(processes(null), 4242)).toMatchObject({ ok: false, reason: expect.stringContaining('could not read the executable') });
    expect(revealTarget(processes('nc'), 4242)).toMatchObject({ ok: false });
    // A vanished port's last holder is named by the incident's ports.
    expect(revealTarget(ncIncident(), 801)).toEqual({ ok: true, path: '/usr/sbin/sshd' });
  });

  it("is refused by the engine outside the desktop app", async () => {
    const { createEngineApi } = await import('../../../src/main/engine/api/index');
    const api = createEngineApi({ db: null as never, status: () => { throw new Error('unused'); }, detectNow: () => null, setPaused: () => {}, snooze: () => {}, settingsChanged: () => {} });
    expect(await api.revealExecutable(7, 4242)).toMatchObject({ ok: false, reason: expect.stringContaining('only the desktop app') });
  });
});
