import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { ActionStore, procIdentity } from '../../../../src/main/engine/store/actionStore';
import { IncidentActionError, stopIncidentProcess } from '../../../../src/main/engine/actions/incidentActions';
import { getIncident } from '../../../../src/main/engine/queries/incidents';
import { SettingsStore } from '../../../../src/main/engine/store/settingsStore';
import { openTestDb } from '../../../support/db';
import { alive, endChildren, sleeper, stubborn } from './support';

/**
 * An incident's processes recorded with their start time when it is created, and stopping one
 * from the incident on a real database: the outcome is recorded and shown with the incident.
 */

let db: Db;
beforeEach(() => {
  db = openTestDb().db;
  db.exec(`
    INSERT INTO rounds (id, started_at, host, status) VALUES (1, 60000, 'h', 'ok');
    INSERT INTO incidents (id, start_round_id, end_round_id, started_at, ended_at, rounds, peak_score, threshold, sentence)
      VALUES (1, 1, 1, 60000, 60000, 1, 9, 4, 'Port 4444/tcp started listening: /usr/bin/sleep, never seen before.');
  `);
});
afterEach(() => {
  endChildren();
  db.close();
});

const port = (pid: number, p = 4444) =>
  db.prepare("INSERT INTO incident_ports (incident_id, rank, proto, port, direction, share, expected, process, exe, pid) VALUES (1, ?, 'tcp', ?, 'appeared', 1, 0, 'sleep', '/usr/bin/sleep', ?)").run(p - 4444, p, pid);

describe.runIf(process.platform === 'linux')('recording and stopping an incident\'s processes', () => {
  it('records the start time of the process the round saw, and not of one that is not it', async () => {
    const a = await sleeper();
    const b = await sleeper();
    const c = await sleeper();
    const store = new ActionStore(db, procIdentity, () => 5);
    store.recordProcesses(1, [
      { pid: a.live.pid, exe: '/usr/bin/sleep', name: 'sleep', seenAt: Date.now() },
      // Another executable than the round saw: not the process it saw.
      { pid: b.live.pid, exe: '/usr/bin/nc', name: 'nc', seenAt: Date.now() },
      // Started after the round that saw its pid: a later process given that pid.
      { pid: c.live.pid, exe: '/usr/bin/sleep', name: 'sleep', seenAt: Date.now() - 10 * 60_000 },
    ]);
    port(a.live.pid);
    const byPid = new Map(store.processes(1).map((p) => [p.pid, p]));
    expect(byPid.get(a.live.pid)).toEqual({ pid: a.live.pid, startTicks: a.live.startTicks, exe: '/usr/bin/sleep', name: 'sleep', uid: process.getuid!(), ports: [{ proto: 'tcp', port: 4444 }] });
    expect(byPid.get(b.live.pid)).toMatchObject({ startTicks: null, exe: '/usr/bin/nc', uid: null });
    expect(byPid.get(c.live.pid)).toMatchObject({ startTicks: null });
    // The first sighting stays: a later one does not overwrite it.
    store.recordProcesses(1, [{ pid: b.live.pid, exe: '/usr/bin/sleep', name: 'sleep', seenAt: Date.now() }]);
    expect(store.process(1, b.live.pid)!.startTicks).toBeNull();
  });

  it('stops the process from the incident and records the outcome, shown with the incident', async () => {
    const { live, exit } = await sleeper();
    new ActionStore(db).recordProcesses(1, [{ pid: live.pid, exe: '/usr/bin/sleep', name: 'sleep', seenAt: Date.now() }]);
    port(live.pid);
    const action = await stopIncidentProcess(db, 1, live.pid, { now: () => 1_000 });
    expect(action).toEqual({ at: 1_000, action: 'stop', pid: live.pid, outcome: 'sigterm', detail: `/usr/bin/sleep (pid ${live.pid}) ended on SIGTERM` });
    expect(await exit).toBe('SIGTERM');
    const detail = getIncident(db, 1);
    expect(detail.actions).toEqual([action]);
    expect(detail.processes.map((p) => p.pid)).toEqual([live.pid]);
    // Once more: it has gone, and that is recorded too.
    expect((await stopIncidentProcess(db, 1, live.pid)).outcome).toBe('gone');
    expect(getIncident(db, 1).actions.map((a) => a.outcome)).toEqual(['sigterm', 'gone']);
  });

  it('waits the grace period of the setting before SIGKILL', async () => {
    const { live, exit } = await stubborn();
    new ActionStore(db).recordProcesses(1, [{ pid: live.pid, exe: live.exe, name: 'node', seenAt: Date.now() }]);
    new SettingsStore(db).set('actions.stopGraceSeconds', 1);
    const action = await stopIncidentProcess(db, 1, live.pid);
    expect(action.outcome).toBe('sigkill');
    expect(action.detail).toContain('did not end within 10 checks of SIGTERM');
    expect(await exit).toBe('SIGKILL');
  });

  it('refuses an unknown incident and a pid the incident does not name, signalling nothing', async () => {
    const { live } = await sleeper();
    await expect(stopIncidentProcess(db, 99, live.pid)).rejects.toThrow(new IncidentActionError('no incident 99'));
    await expect(stopIncidentProcess(db, 1, live.pid)).rejects.toThrow(`incident 1 names no process with pid ${live.pid} (it names none)`);
    expect(alive(live.pid)).toBe(true);
    expect(getIncident(db, 1).actions).toEqual([]);
  });

  it('records a signal a monitor that died mid-way sent, as not known to have worked', () => {
    const store = new ActionStore(db);
    store.beginAction(1, 4242, 7);
    expect(store.actions(1)).toEqual([{ at: 7, action: 'stop', pid: 4242, outcome: 'failed', detail: 'Portent stopped before it knew the outcome' }]);
  });
});
