import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { createEngineApi } from '../../../../src/main/engine/api';
import { contract, METHOD_NAMES, StatusSchema } from '../../../../src/shared/contract';
import { openTestDb } from '../../../support/db';
import { TestHost } from './host';

let db: Db;
let host: TestHost;
beforeEach(() => {
  db = openTestDb().db;
  host = new TestHost(db);
});
afterEach(() => db.close());

describe('createEngineApi', () => {
  it('implements every contract method', () => {
    expect(Object.keys(createEngineApi(host)).sort()).toEqual([...METHOD_NAMES].sort());
  });

  it('answers the queries in the shapes the contract declares, on an empty database', async () => {
    const api = createEngineApi(host);
    const range = { from: 1, to: 3_600_000 };
    const results = {
      listScores: await api.listScores({ ...range, maxPoints: 100 }),
      listIncidents: await api.listIncidents({ limit: 10 }),
      portTimeline: await api.portTimeline({ ...range, buckets: 60 }),
      portHistory: await api.portHistory({ ...range, proto: 'tcp', port: 22, buckets: 60 }),
      listConnections: await api.listConnections(range),
      listDetectionRuns: await api.listDetectionRuns({ limit: 10 }),
      listModels: await api.listModels({ limit: 10 }),
      getSettings: await api.getSettings(),
      getStatus: await api.getStatus(),
    };
    for (const [method, result] of Object.entries(results)) {
      expect(contract[method as keyof typeof results].result.safeParse(result).success, method).toBe(true);
    }
    await expect(Promise.resolve().then(() => api.getIncident(5))).rejects.toThrow('no incident 5');
  });

  it('stores a valid setting and tells the engine; refuses an invalid one and keeps the old value', async () => {
    const api = createEngineApi(host);
    expect(await api.setSetting('detection.sensitivity', 'high')).toEqual({ ok: true, value: 'high' });
    expect(host.settingsChanges).toBe(1);
    const refused = await api.setSetting('detection.sensitivity', 'extreme');
    expect(refused.ok).toBe(false);
    expect(refused.ok === false && refused.error).toMatch(/sensitivity/);
    const unknown = await api.setSetting('no.such.setting', 1);
    expect(unknown.ok === false && unknown.error).toMatch(/unknown setting/);
    expect(host.settingsChanges).toBe(1);
    const view = await api.getSettings();
    expect(view.values['detection.sensitivity']).toBe('high');
    expect(view.changed).toEqual(['detection.sensitivity']);
  });

  it('reports refused stored values and the interfaces to choose from; refuses an interface the machine lacks', async () => {
    host.interfaces = () => ({ names: [{ name: 'eth0', addresses: ['192.0.2.2'], loopback: false }, { name: 'lo', addresses: ['127.0.0.1'], loopback: true }], default: 'eth0' });
    db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('retention.flowsDays', '\"lots\"', 1)").run();
    const api = createEngineApi(host);
    const view = await api.getSettings();
    expect(contract.getSettings.result.parse(view)).toEqual(view);
    expect(view.values['retention.flowsDays']).toBe(30);
    expect(view.invalid).toEqual([{ key: 'retention.flowsDays', stored: '"lots"', reason: expect.stringContaining('the default, 30, is used in its place') }]);
    expect(view.interfaces).toMatchObject({ names: [{ name: 'eth0' }, { name: 'lo' }], default: 'eth0' });

    expect(await api.setSetting('capture.interface', 'lo')).toEqual({ ok: true, value: 'lo' });
    expect(await api.setSetting('capture.interface', 'eth9')).toEqual({
      ok: false,
      error: `capture.interface must be one of this machine's interfaces (eth0, lo), or "" for the default route's; got "eth9"`,
    });
    expect((await api.getSettings()).values['capture.interface']).toBe('lo');
    expect(host.settingsChanges).toBe(1);
  });

  it('runs a detection when none is running and says why it cannot otherwise', async () => {
    const api = createEngineApi(host);
    expect(await api.detectNow()).toEqual({ started: false, reason: 'a detection is already running' });
    host.detection = Promise.resolve({ roundsScored: 12, incidents: [{}, {}], learning: { learning: true }, backend: 'wasm' });
    expect(await api.detectNow()).toEqual({ started: true, roundsScored: 12, incidents: 2, learning: true, backend: 'wasm' });
  });

  it('pauses and snoozes through the engine and returns the new status', async () => {
    const api = createEngineApi(host);
    const paused = await api.setPaused(true);
    expect(StatusSchema.parse(paused).paused).toBe(true);
    expect((await api.snoozeAlerts(5_000)).snoozedUntil).toBe(5_000);
    expect((await api.snoozeAlerts(null)).snoozedUntil).toBeNull();
  });
});
