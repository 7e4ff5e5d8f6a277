import { afterEach, describe, expect, it } from 'vitest';
import { readProcess } from '../../../../src/main/engine/actions/processIdentity';
import { stopProcess, type StopPolicy } from '../../../../src/main/engine/actions/stopProcess';
import { alive, endChildren, sleeper, stubborn } from './support';

/**
 * Stopping an incident's process against real processes this test starts: SIGTERM, SIGKILL for
 * one that ignores SIGTERM, a reused pid refused, another user's process refused, init never
 * signalled.
 */

afterEach(endChildren);

const uid = process.getuid!();
const policy: StopPolicy = { monitorUid: uid, rootMayStopOthers: false, protectedPids: [1, process.pid, process.ppid] };
const recordedOf = (p: { pid: number; startTicks: number; exe: string | null }) => ({ pid: p.pid, startTicks: p.startTicks, exe: p.exe });

describe.runIf(process.platform === 'linux')('stopProcess', () => {
  it('stops a process that exits on SIGTERM', async () => {
    const { live, exit } = await sleeper();
    const r = await stopProcess(recordedOf(live), { policy, graceChecks: 30, checkEveryMs: 100 });
    expect(r).toEqual({ outcome: 'sigterm', detail: `/usr/bin/sleep (pid ${live.pid}) ended on SIGTERM` });
    expect(await exit).toBe('SIGTERM');
  });

  it('sends SIGKILL to a process still running after the grace period', async () => {
    const { live, exit } = await stubborn();
    const r = await stopProcess(recordedOf(live), { policy, graceChecks: 5, checkEveryMs: 100 });
    expect(r.outcome).toBe('sigkill');
    expect(r.detail).toMatch(/did not end within 5 checks of SIGTERM and was ended by SIGKILL/);
    expect(await exit).toBe('SIGKILL');
  });

  it('refuses a pid now held by another process (a later start time), and signals nothing', async () => {
    // The incident recorded process A; its pid now belongs to B, started later (both run sleep,
    // so only the start time tells them apart).
    const a = await sleeper();
    await new Promise((r) => setTimeout(r, 50));
    const b = await sleeper();
    expect(b.live.startTicks).toBeGreaterThan(a.live.startTicks);
    const r = await stopProcess({ pid: b.live.pid, startTicks: a.live.startTicks, exe: a.live.exe }, { policy, graceChecks: 5 });
    expect(r.outcome).toBe('refused');
    expect(r.detail).toContain(`pid ${b.live.pid} now belongs to another process`);
    expect(r.detail).toContain('its pid was reused');
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(a.live.pid) && alive(b.live.pid)).toBe(true);
  });

  it('refuses a process whose executable is not the one recorded', async () => {
    const { live } = await sleeper();
    const r = await stopProcess({ ...recordedOf(live), exe: '/usr/bin/nc' }, { policy, graceChecks: 5 });
    expect(r).toEqual({ outcome: 'refused', detail: `pid ${live.pid} now runs /usr/bin/sleep, not /usr/bin/nc as recorded` });
    expect(alive(live.pid)).toBe(true);
  });

  it('refuses a process whose start time was never recorded', async () => {
    const { live } = await sleeper();
    const r = await stopProcess({ pid: live.pid, startTicks: null, exe: live.exe }, { policy, graceChecks: 5 });
    expect(r.outcome).toBe('refused');
    expect(r.detail).toMatch(/did not record when pid \d+ started/);
    expect(alive(live.pid)).toBe(true);
  });

  it('says a process that already ended is gone', async () => {
    const { child, live, exit } = await sleeper();
    child.kill('SIGKILL');
    await exit;
    expect(await stopProcess(recordedOf(live), { policy, graceChecks: 5 })).toEqual({ outcome: 'gone', detail: `pid ${live.pid} had already ended` });
  });

  it.runIf(uid === 0)("as root, refuses another user's process unless actions.rootMayStopOthers allows it", async () => {
    const nobody = await sleeper({ as: 'nobody' });
    expect(nobody.live.uid).toBe(65534);
    const refused = await stopProcess(recordedOf(nobody.live), { policy, graceChecks: 5 });
    expect(refused.outcome).toBe('refused');
    expect(refused.detail).toMatch(/belongs to uid 65534, not to root.*actions\.rootMayStopOthers/);
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(nobody.live.pid)).toBe(true);
    const allowed = await stopProcess(recordedOf(nobody.live), { policy: { ...policy, rootMayStopOthers: true }, graceChecks: 30 });
    expect(allowed.outcome).toBe('sigterm');
    expect(await nobody.exit).toBe('SIGTERM');
  });

  it("refuses a process of another user than the monitor's (a monitor run as uid 1000 and a root process)", async () => {
    // The children run as this test's user; the monitor here is said to run as another.
    const { live } = await sleeper();
    const other = uid === 0 ? 1000 : 0;
    const r = await stopProcess(recordedOf(live), { policy: { ...policy, monitorUid: other }, graceChecks: 5 });
    expect(r.outcome).toBe('refused');
    expect(r.detail).toContain(`belongs to uid ${uid}`);
    expect(alive(live.pid)).toBe(true);
  });

  it('never signals init, even as its owner (no real signal is sent here)', async () => {
    const init = readProcess(1);
    if (!init) return;
    const sent: number[] = [];
    const r = await stopProcess(recordedOf(init), { policy: { ...policy, monitorUid: init.uid ?? uid }, graceChecks: 1, signal: (pid) => void sent.push(pid), read: readProcess });
    expect(r).toEqual({ outcome: 'refused', detail: 'pid 1 is the init process, which Portent never signals' });
    expect(sent).toEqual([]);
  });
});
