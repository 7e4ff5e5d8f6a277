import { describe, expect, it } from 'vitest';
import { ipcCall } from '../../../src/main/desktop/ipcCall';
import { METHOD_NAMES, type Handlers, type MethodName } from '../../../src/shared/contract';

/** One well-formed call per channel; the test below fails if a channel is missing here. */
const VALID: Record<MethodName, unknown[]> = {
  getStatus: [],
  listScores: [{ from: 0, to: 3_600_000, maxPoints: 100 }],
  listIncidents: [{ limit: 50 }],
  getIncident: [3],
  setIncidentStatus: [3, 'expected'],
  portTimeline: [{ from: 0, to: 3_600_000, buckets: 60 }],
  portHistory: [{ proto: 'tcp', port: 4444, from: 0, to: 3_600_000, buckets: 60 }],
  listConnections: [{ from: 0, to: 3_600_000, process: 'bash', host: 'example' }],
  listDetectionRuns: [{ limit: 20 }],
  listModels: [{ limit: 5 }],
  detectNow: [],
  getSettings: [],
  setSetting: ['retention.packetsDays', 14],
  setPaused: [true],
  snoozeAlerts: [1_800_000_000_000],
  getReport: [{ day: '2026-12-05' }],
  listReports: [{ limit: 30 }],
  stopIncidentProcess: [3, 4242],
  revealExecutable: [3, 4242],
  listAllowRules: [],
  addAllowRule: [{ proto: 'tcp', port: 4444, process: null, exe: '/usr/bin/nc', user: 'alice', fromIncidentId: 3 }],
  removeAllowRule: [2],
};

/** What a compromised or confused page might send on any channel. */
const HOSTILE: unknown[][] = [
  [null, null],
  [undefined, undefined, undefined],
  ['; DROP TABLE rounds'],
  [{ toString: 'x', valueOf: 'y' }],
  [Number.NaN],
  [-1, -1],
  [{ from: -1, to: Number.POSITIVE_INFINITY, buckets: 1e12, limit: 1e12, maxPoints: 1e12 }],
  ['x'.repeat(100_000)],
  [[[[[]]]]],
];

/** Handlers that record what reached them: the boundary under test is the validation before them. */
function recording(): { handlers: Handlers; calls: [MethodName, unknown[]][] } {
  const calls: [MethodName, unknown[]][] = [];
  const handlers = Object.fromEntries(
    METHOD_NAMES.map((m) => [
      m,
      (...args: unknown[]) => {
        calls.push([m, args]);
        return 'ok';
      },
    ]),
  ) as unknown as Handlers;
  return { handlers, calls };
}

describe('ipcCall', () => {
  it('has a well-formed example for every channel', () => {
    expect(Object.keys(VALID).sort()).toEqual([...METHOD_NAMES].sort());
  });

  it.each(METHOD_NAMES)('%s: passes a well-formed call from Portent\'s window to its handler', async (method) => {
    const { handlers, calls } = recording();
    await expect(ipcCall(handlers, method, true, VALID[method])).resolves.toBe('ok');
    expect(calls).toEqual([[method, VALID[method]]]);
  });

  it.each(METHOD_NAMES)('%s: refuses any call from a sender that is not Portent\'s window', async (method) => {
    const { handlers, calls } = recording();
    await expect(ipcCall(handlers, method, false, VALID[method])).rejects.toThrow(`Refused ${method}: the sender is not a Portent window`);
    expect(calls).toEqual([]);
  });

  it.each(METHOD_NAMES)('%s: refuses hostile arguments before the handler runs', async (method) => {
    const { handlers, calls } = recording();
    for (const args of HOSTILE) {
      await expect(ipcCall(handlers, method, true, args), JSON.stringify(args).slice(0, 80)).rejects.toThrow(`Invalid arguments for ${method}`);
    }
    // One argument too many is as wrong as a bad one.
    await expect(ipcCall(handlers, method, true, [...VALID[method], 'extra'])).rejects.toThrow(`Invalid arguments for ${method}`);
    expect(calls).toEqual([]);
  });
});
