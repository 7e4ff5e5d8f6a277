import { describe, expect, it } from 'vitest';
import { contract, isMethodName, METHOD_NAMES, parseArgs, StatusSchema } from '../../src/shared/contract';

describe('shared contract', () => {
  it('lists exactly the methods it defines', () => {
    expect([...METHOD_NAMES].sort()).toEqual(Object.keys(contract).sort());
  });

  it('recognises method names and refuses inherited or unknown ones', () => {
    expect(isMethodName('getStatus')).toBe(true);
    expect(isMethodName('toString')).toBe(false);
    expect(isMethodName('__proto__')).toBe(false);
    expect(isMethodName(42)).toBe(false);
  });

  it('accepts well-formed arguments and rejects extra or hostile ones with the method named', () => {
    expect(parseArgs('getStatus', [])).toEqual([]);
    expect(() => parseArgs('getStatus', ['extra'])).toThrow(/Invalid arguments for getStatus/);
    expect(() => parseArgs('getStatus', { length: 0 })).toThrow(/Invalid arguments for getStatus/);
    expect(() => parseArgs('getStatus', null)).toThrow(/Invalid arguments for getStatus/);
  });

  it('describes a status', () => {
    const ok = {
      version: '0.1.0',
      monitoring: true,
      paused: false,
      monitoringSince: 1,
      database: '/x.db',
      databaseBytes: 4096,
      lastRound: { id: 3, startedAt: 2, status: 'ok', error: null, ports: 12 },
      capture: { state: 'off', iface: null, message: 'packet capture is off: disabled in settings', remedy: [] },
      model: { state: 'learning', training: false, backend: 'wasm', version: 1, threshold: null, roundsSeen: 30, roundsNeeded: 360, progress: 30 / 360 },
      detection: { running: false, lastRunAt: 2, lastRunStatus: 'ok' },
      unscoredRounds: 0,
      incidents: { today: 0, week: 1, unseen: 1 },
      snoozedUntil: null,
    };
    expect(StatusSchema.parse(ok)).toEqual(ok);
    expect(StatusSchema.safeParse({ ...ok, monitoringSince: 'yesterday' }).success).toBe(false);
    expect(StatusSchema.safeParse({ ...ok, model: { ...ok.model, progress: 2 } }).success).toBe(false);
  });

  it('refuses hostile arguments for the methods that take them', () => {
    expect(parseArgs('getIncident', [7])).toEqual([7]);
    for (const bad of [[0], [-1], [1.5], ['7'], [{ valueOf: 7 }], []]) expect(() => parseArgs('getIncident', bad), JSON.stringify(bad)).toThrow(/Invalid arguments for getIncident/);
    expect(() => parseArgs('setIncidentStatus', [1, 'new'])).toThrow(/Invalid arguments for setIncidentStatus/);
    expect(() => parseArgs('portTimeline', [{ from: 10, to: 5, buckets: 10 }])).toThrow(/to must be after from/);
    expect(() => parseArgs('portTimeline', [{ from: 0, to: 5, buckets: 1e9 }])).toThrow(/Invalid arguments for portTimeline/);
    expect(() => parseArgs('listIncidents', [{ limit: 10, __proto__: { admin: true }, extra: 1 }])).not.toThrow();
    expect(parseArgs('listIncidents', [{ limit: 10, extra: 1 }])).toEqual([{ limit: 10 }]);
    expect(() => parseArgs('setSetting', ['x'.repeat(101), 1])).toThrow(/Invalid arguments for setSetting/);
    expect(() => parseArgs('snoozeAlerts', [-5])).toThrow(/Invalid arguments for snoozeAlerts/);
  });
});
