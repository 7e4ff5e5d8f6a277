import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { databaseFileBytes } from '../../../../src/main/engine/store/database';
import { buildReport } from '../../../../src/main/engine/report/buildReport';
import { reportText } from '../../../../src/main/engine/report/reportText';
import type { DailyReport } from '../../../../src/shared/contract';
import { DailyReportSchema } from '../../../../src/shared/contract';
import { openTestDb } from '../../../support/db';
import { at, DAY, MINUTE, PERIOD, seedDay, type SeededDay } from './seedDay';

let db: Db;
let file: string;
let seeded: SeededDay;
let report: DailyReport;

beforeEach(() => {
  ({ db, file } = openTestDb());
  seeded = seedDay(db);
  report = buildReport(db, PERIOD, { dbPath: file, roundsNeeded: 360, now: PERIOD.to + 5_000, host: 'testhost' });
});
afterEach(() => db.close());

const unknownOwner = { process: null, exe: null, user: null };

describe('the daily report of a known day', () => {
  it('covers the 24 hours before the report time and fits the shared schema', () => {
    expect(DailyReportSchema.parse(report)).toEqual(report);
    expect(report).toMatchObject({ day: DAY, from: PERIOD.from, to: PERIOD.to, builtAt: PERIOD.to + 5_000, host: 'testhost' });
    expect(report.to - report.from).toBe(24 * 60 * MINUTE);
    expect(new Date(report.to).getHours()).toBe(9);
    expect(report.summary).toEqual({ incidents: 3, newListeners: 3, newTalkers: 2 });
  });

  it('lists the incidents that overlap the period, with status and sentence, and none from before it', () => {
    expect(report.incidents).toEqual([
      { id: seeded.incidents.across, startedAt: at(-119), endedAt: at(61), status: 'dismissed', kind: 'ports', sentence: 'Port 22/tcp is held by sshd at an unusual hour.' },
      { id: seeded.incidents.nc, startedAt: at(65), endedAt: at(66), status: 'new', kind: 'ports', sentence: 'Port 4444/tcp started listening: nc, never seen before.' },
      { id: seeded.incidents.bash, startedAt: at(67), endedAt: at(70), status: 'seen', kind: 'traffic', sentence: 'bash opened connections to 203.0.113.9:4444 every 60 s.' },
    ]);
  });

  it('names the ports that opened for the first time ever and who opened them, not the ones open since before', () => {
    expect(report.newPorts).toEqual([
      { proto: 'tcp', port: 4444, firstSeenAt: at(65), pid: 4242, process: 'nc', exe: '/usr/bin/nc', user: 'ann' },
      { proto: 'tcp', port: 2222, firstSeenAt: at(300), pid: 812, process: 'sshd', exe: '/usr/bin/sshd', user: 'root' },
      { proto: 'tcp', port: 8000, firstSeenAt: at(300), pid: 5100, process: 'python3', exe: '/usr/bin/python3', user: 'ann' },
    ]);
  });

  it('names the programs that listened for the first time (sshd listened before, on 22)', () => {
    expect(report.newListeningProcesses).toEqual([
      { process: 'nc', exe: '/usr/bin/nc', user: 'ann', firstSeenAt: at(65), ports: ['tcp/4444'] },
      { process: 'python3', exe: '/usr/bin/python3', user: 'ann', firstSeenAt: at(300), ports: ['tcp/8000'] },
    ]);
  });

  it('names the programs that talked out for the first time and to what; a known talker with a new peer and a listener accepting a peer are not', () => {
    expect(report.newTalkers).toEqual([
      { process: 'bash', exe: '/usr/bin/bash', user: 'ann', firstSeenAt: at(66), endpoints: [{ proto: 'tcp', address: '203.0.113.9', port: 4444, name: null }], moreEndpoints: 0 },
      { process: 'curl', exe: '/usr/bin/curl', user: 'ann', firstSeenAt: at(305), endpoints: [{ proto: 'tcp', address: '198.51.100.7', port: 80, name: null }], moreEndpoints: 0 },
    ]);
    // 151.101.1.1:443 (firefox), 203.0.113.9:4444, 198.51.100.7:80, and the peer sshd accepted.
    expect(report.newEndpoints).toBe(4);
  });

  it('ranks the busiest programs by bytes captured, then by remote ends', () => {
    expect(report.busiestProcesses).toEqual([
      { process: 'firefox', exe: '/usr/bin/firefox', user: 'ann', bytesOut: 1000, bytesIn: 50_000, endpoints: 2 },
      { process: 'bash', exe: '/usr/bin/bash', user: 'ann', bytesOut: 48_000, bytesIn: 1_200, endpoints: 1 },
      { ...unknownOwner, bytesOut: 300, bytesIn: 0, endpoints: 0 },
      { process: 'python3', exe: '/usr/bin/python3', user: 'ann', bytesOut: 200, bytesIn: 0, endpoints: 0 },
      { process: 'curl', exe: '/usr/bin/curl', user: 'ann', bytesOut: 0, bytesIn: 0, endpoints: 1 },
      { process: 'sshd', exe: '/usr/bin/sshd', user: 'root', bytesOut: 0, bytesIn: 0, endpoints: 1 },
    ]);
  });

  it('ranks the busiest remote ends, with their resolved names and programs', () => {
    expect(report.busiestEndpoints).toEqual([
      { proto: 'tcp', address: '93.184.216.34', port: 443, name: 'example.com', bytesOut: 1000, bytesIn: 50_000, processes: ['firefox'] },
      { proto: 'tcp', address: '203.0.113.9', port: 4444, name: null, bytesOut: 48_000, bytesIn: 1_200, processes: ['bash'] },
      { proto: 'tcp', address: '1.1.1.1', port: 853, name: null, bytesOut: 300, bytesIn: 0, processes: [] },
    ]);
  });

  it('counts rounds, bytes and incidents per hour of the period', () => {
    expect(report.hours).toHaveLength(24);
    expect(report.hours[0]).toEqual({ at: PERIOD.from, rounds: 0, bytes: 0, incidents: 0 });
    expect(report.hours[1]).toEqual({ at: at(60), rounds: 30, bytes: 100_500, incidents: 2 });
    expect(report.hours[5]).toEqual({ at: at(300), rounds: 20, bytes: 200, incidents: 0 });
    expect(report.hours.reduce((n, h) => n + h.rounds, 0)).toBe(50);
  });

  it('tells capture health: time not recording, time capture was off and why, packets and kernel drops', () => {
    expect(report.capture).toEqual({
      rounds: 50,
      roundsCaptured: 45,
      monitorOffMs: (24 * 60 - 50) * MINUTE,
      gaps: [
        { from: PERIOD.from, to: at(60), reason: 'unknown', detail: null },
        { from: at(90), to: at(300), reason: 'unknown', detail: null },
        { from: at(320), to: PERIOD.to, reason: 'unknown', detail: null },
      ],
      captureOffMs: 5 * MINUTE,
      offReasons: [{ message: 'packet capture is off: disabled in settings', rounds: 5 }],
      packetsSeen: 30 * 100 + 15 * 10,
      kernelDrops: 2,
    });
  });

  it('tells model health as of the period\'s end: state, backend, threshold, refits and detections', () => {
    expect(report.model).toEqual({ state: 'ready', backend: 'wasm', version: 2, threshold: 0.042, roundsSeen: 400, roundsNeeded: 360, refits: 1, detections: 3, failedDetections: 1 });
    const learning = buildReport(db, PERIOD, { dbPath: file, roundsNeeded: 500, now: PERIOD.to, host: 'h' }).model;
    expect(learning).toMatchObject({ state: 'learning', threshold: null, roundsSeen: 400, roundsNeeded: 500 });
  });

  it('tells the database size and what the period\'s cleanup removed', () => {
    expect(report.database.bytes).toBe(databaseFileBytes(file));
    expect(report.database.bytes).toBeGreaterThan(0);
    expect(report.database.cleanups).toEqual([
      {
        at: at(18 * 60 + 30),
        status: 'ok',
        removed: { roundPorts: 120, connections: 4, packets: 3000, flows: 80, trafficWindows: 6, reportFiles: 2, forCap: 0 },
        bytesBefore: 5_000_000,
        bytesAfter: 4_000_000,
      },
    ]);
  });

  it('reads as text with every section and its numbers', () => {
    const text = reportText(report);
    expect(text).toContain('Portent daily report: testhost, 2026-11-21');
    expect(text).toContain('3 incidents, 3 new listeners, 2 new programs talking out; 4 remote ends contacted for the first time.');
    expect(text).toMatch(/\[new\] Port 4444\/tcp started listening: nc, never seen before\./);
    expect(text).toMatch(/4444\/tcp at 2026-11-20 10:05 by nc \(\/usr\/bin\/nc\), user ann, pid 4242/);
    expect(text).toContain('bash since 2026-11-20 10:06 to 203.0.113.9:4444');
    expect(text).toContain('firefox: 1000 B sent, 49 KB received, 2 remote ends');
    expect(text).toContain('93.184.216.34:443 (example.com): 1000 B sent, 49 KB received, by firefox');
    expect(text).toContain('50 rounds recorded, capture off for 5 min; monitor not recording for 23 h 10 min; 3150 packets seen, 2 packets dropped by the kernel.');
    expect(text).toContain('Ready: model version 2 on wasm, threshold 0.0420, 400 rounds seen; 3 detections (1 failed), 1 refit.');
    expect(text).toMatch(/1 cleanup removed 120 round socket rows, 4 connection spans, 3000 packets, 80 flows, 6 traffic windows, 2 report files\./);
  });

  it('is empty but whole for a day with nothing recorded', () => {
    const empty = buildReport(db, { day: '2026-11-10', from: PERIOD.from - 11 * 86_400_000, to: PERIOD.to - 11 * 86_400_000 }, { dbPath: file, roundsNeeded: 360, now: PERIOD.to, host: 'h' });
    expect(empty.summary).toEqual({ incidents: 0, newListeners: 0, newTalkers: 0 });
    expect(empty.capture).toMatchObject({ rounds: 0, roundsCaptured: 0, monitorOffMs: 24 * 60 * MINUTE, kernelDrops: null });
    expect(empty.model.state).toBe('none');
    expect(empty.busiestProcesses).toEqual([]);
  });
});
