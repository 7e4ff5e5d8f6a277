import os from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readStatus, UNSCORED_ROUNDS_SQL } from '../../../src/main/engine/status';
import { planOf } from './queries/seed';
import type { Db } from '../../../src/main/engine/store/database';
import type { RoundStore } from '../../../src/main/engine/store/rounds';
import { DetectionStore } from '../../../src/main/engine/store/detectionStore';
import { openTestStore } from '../../support/db';

let db: Db;
let store: RoundStore;
let file: string;
beforeEach(() => {
  ({ db, store, file } = openTestStore());
});
afterEach(() => db.close());

const NOW = new Date(2026, 10, 22, 15, 0, 0).getTime();
const socket = { proto: 'tcp' as const, family: 4 as const, address: '127.0.0.1', pid: 10, process: 'sshd', exe: '/usr/sbin/sshd', user: 'root' };

describe('readStatus', () => {
  it('says what an empty database and a stopped monitor amount to', () => {
    const s = readStatus({ db, dbPath: file, monitor: null, roundsNeeded: 360, now: NOW });
    expect(s).toMatchObject({
      monitoring: false,
      paused: false,
      monitoringSince: null,
      lastRound: null,
      capture: { state: 'off', message: 'packet capture is off: the monitor is not running' },
      model: { state: 'none', roundsSeen: 0, roundsNeeded: 360, progress: 0, threshold: null },
      detection: { running: false, lastRunAt: null },
      unscoredRounds: 0,
      incidents: { today: 0, week: 0, unseen: 0 },
      snoozedUntil: null,
      firstRoundAt: null,
    });
    // No monitor: no round length of its own to tell.
    expect(s.roundSeconds).toBeUndefined();
    expect(s.databaseBytes).toBeGreaterThan(0);
  });

  it('reports the last round, learning progress, unscored rounds, incidents and the live monitor', () => {
    const r1 = store.record({ host: 'h', startedAt: NOW - 120_000, endedAt: NOW - 119_990, outcome: { sockets: [{ ...socket, port: 22 }], connections: [] } });
    const r2 = store.record({ host: 'h', startedAt: NOW - 60_000, endedAt: NOW - 59_990, outcome: { sockets: [{ ...socket, port: 22 }, { ...socket, port: 4444 }], connections: [] } });
    const detections = new DetectionStore(db);
    const run = detections.startRun('schedule', NOW - 30_000, 'wasm');
    detections.saveScores(run, 1, [{ roundId: r1, score: 1, threshold: null, anomalous: false }]);
    detections.recordModel({ version: 1, createdAt: NOW - 30_000, backend: 'wasm', threshold: 5, architecture: {}, history: [], roundsTrained: 300, roundsSeen: 90 });
    const port = { proto: 'tcp' as const, port: 4444, direction: 'appeared' as const, share: 1, expected: 0, process: 'nc', exe: '/usr/bin/nc', pid: 9, firstSeenAt: NOW - 60_000, usualProcess: null, usualExe: null };
    detections.insertIncident(run, { startRoundId: r2, endRoundId: r2, startedAt: NOW - 60_000, endedAt: NOW - 60_000, rounds: 1, peakScore: 9, threshold: 5, sentence: 'x', ports: [port] });
    detections.insertIncident(run, { startRoundId: r1, endRoundId: r1, startedAt: NOW - 3 * 86_400_000, endedAt: NOW - 3 * 86_400_000, rounds: 1, peakScore: 9, threshold: 5, sentence: 'y', ports: [port] });
    const monitor = {
      pid: process.pid,
      host: os.hostname(),
      startedAt: NOW - 600_000,
      roundSeconds: 60,
      paused: true,
      snoozedUntil: NOW + 3_600_000,
      detecting: true,
      capture: { state: 'error' as const, iface: 'eth0', message: 'packet capture is off: permission denied on eth0', remedy: ['sudo setcap ...'] },
      updatedAt: NOW,
    };
    const s = readStatus({ db, dbPath: file, monitor, roundsNeeded: 360, now: NOW });
    expect(s).toMatchObject({
      monitoring: true,
      paused: true,
      monitoringSince: NOW - 600_000,
      lastRound: { id: r2, startedAt: NOW - 60_000, status: 'ok', error: null, ports: 2 },
      capture: monitor.capture,
      model: { state: 'learning', training: true, backend: 'wasm', version: 1, threshold: null, roundsSeen: 90, progress: 0.25 },
      detection: { running: true, lastRunAt: NOW - 30_000, lastRunStatus: 'running' },
      unscoredRounds: 1,
      incidents: { today: 1, week: 2, unseen: 2 },
      snoozedUntil: NOW + 3_600_000,
      roundSeconds: 60,
      firstRoundAt: NOW - 120_000,
    });
    expect(readStatus({ db, dbPath: file, monitor, roundsNeeded: 60, now: NOW }).model).toMatchObject({ state: 'ready', threshold: 5, progress: 1 });
  });

  it('counts waiting rounds from the newest scored one on, through the primary key', () => {
    expect(planOf(db, UNSCORED_ROUNDS_SQL)).toMatch(/SEARCH r USING INTEGER PRIMARY KEY \(rowid>\?\)/);
    const ids = Array.from({ length: 5 }, (_, i) => store.record({ host: 'h', startedAt: NOW - (5 - i) * 60_000, endedAt: NOW - (5 - i) * 60_000 + 10, outcome: { sockets: [{ ...socket, port: 22 }], connections: [] } }));
    const detections = new DetectionStore(db);
    const run = detections.startRun('schedule', NOW, 'wasm');
    expect(readStatus({ db, dbPath: file, monitor: null, roundsNeeded: 360, now: NOW }).unscoredRounds).toBe(5);
    detections.saveScores(run, 1, ids.slice(0, 3).map((roundId) => ({ roundId, score: 1, threshold: null, anomalous: false })));
    expect(readStatus({ db, dbPath: file, monitor: null, roundsNeeded: 360, now: NOW }).unscoredRounds).toBe(2);
  });
});
