import type { Status } from '../../../../src/shared/contract';

/** A status of a healthy monitor with a trained model; tests override what they are about. */
export function statusWith(overrides: Partial<Status> = {}): Status {
  return {
    version: '0.1.0',
    monitoring: true,
    paused: false,
    monitoringSince: 1_000,
    database: '/tmp/portent.db',
    databaseBytes: 4096,
    lastRound: { id: 7, startedAt: new Date(2026, 2, 10, 14, 3).getTime(), status: 'ok', error: null, ports: 12 },
    capture: { state: 'on', iface: 'eth0', message: null, remedy: [] },
    model: { state: 'ready', training: false, backend: 'wasm', version: 3, threshold: 0.2, roundsSeen: 400, roundsNeeded: 360, progress: 1 },
    detection: { running: false, lastRunAt: null, lastRunStatus: null },
    unscoredRounds: 0,
    incidents: { today: 0, week: 0, unseen: 0 },
    snoozedUntil: null,
    ...overrides,
  };
}
