import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/main/engine/store/database';
import { RoundStore } from '../../../src/main/engine/store/rounds';
import { DetectionStore } from '../../../src/main/engine/store/detectionStore';
import { csvCell } from '../../../src/main/headless/commands/export';
import { exitOf, runCli, startCli, waitForOutput } from '../../support/cli';
import { tempDir } from '../../support/tmp';

const socket = { family: 4 as const, address: '0.0.0.0', pid: 42, process: 'nc', exe: '/usr/bin/nc', user: 'me' };

/** A database with three rounds and one incident, written by the engine's own stores. */
function seeded(): string {
  const file = path.join(tempDir(), 'portent.db');
  const db = openDatabase(file);
  const rounds = new RoundStore(db);
  const t0 = Date.UTC(2026, 10, 20, 12, 0);
  const ids = [0, 1, 2].map((i) =>
    rounds.record({ host: 'h', startedAt: t0 + i * 60_000, endedAt: t0 + i * 60_000 + 5, outcome: { sockets: [{ ...socket, proto: 'tcp', port: 4444 + i }], connections: [] } }),
  );
  const detections = new DetectionStore(db);
  const run = detections.startRun('manual', t0 + 200_000, 'cpu');
  detections.insertIncident(run, {
    startRoundId: ids[2]!, endRoundId: ids[2]!, startedAt: t0 + 120_000, endedAt: t0 + 120_000, rounds: 1, peakScore: 9, threshold: 4,
    sentence: 'Port 4446/tcp started listening: nc, "never" seen before',
    ports: [{ proto: 'tcp', port: 4446, direction: 'appeared', share: 0.62, expected: 0, process: 'nc', exe: '/usr/bin/nc', pid: 42, firstSeenAt: t0 + 120_000, usualProcess: null, usualExe: null }],
  });
  db.close();
  return file;
}

describe('portent status', () => {
  it('says there is no database yet instead of creating one', () => {
    const db = path.join(tempDir(), 'none.db');
    const r = runCli(['status', '--db', db]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/there is no Portent database at .*none\.db yet: start the monitor with `portent run`/);
  });

  it('reports a stopped monitor from the database alone', () => {
    const file = seeded();
    const r = runCli(['status', '--json', '--db', file]);
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ monitoring: false, lastRound: { status: 'ok', ports: 1 }, model: { state: 'none' }, unscoredRounds: 3, incidents: { unseen: 1 } });
    const text = runCli(['status', '--db', file]).stdout;
    expect(text).toMatch(/Monitoring:\s+not running/);
    expect(text).toMatch(/Incidents:\s+\d+ today, \d+ this week, 1 unseen/);
  });

  it.runIf(process.platform === 'linux')('sees a running monitor from another process, which refuses a second one on the same database', async () => {
    const file = path.join(tempDir(), 'portent.db');
    const server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const child = startCli(['run', '--round-seconds', '1', '--no-capture', '--db', file]);
    const exit = exitOf(child);
    try {
      await waitForOutput(child.stderr, /"msg":"monitor started"/);
      await new Promise((r) => setTimeout(r, 2500));
      const s = JSON.parse(runCli(['status', '--json', '--db', file]).stdout);
      expect(s.monitoring).toBe(true);
      expect(s.monitoringSince).toBeGreaterThan(Date.now() - 60_000);
      expect(s.capture.message).toBe('packet capture is off: disabled in settings');
      expect(s.lastRound.ports).toBeGreaterThanOrEqual(1);
      const second = runCli(['run', '--round-seconds', '1', '--no-capture', '--db', file]);
      expect(second.status).toBe(1);
      expect(second.stderr).toMatch(/another Portent monitor \(pid \d+\) is already running on/);
    } finally {
      child.kill('SIGTERM');
      server.close();
    }
    expect((await exit).code).toBe(0);
    expect(JSON.parse(runCli(['status', '--json', '--db', file]).stdout).monitoring).toBe(false);
  }, 60_000);
});

describe('portent export', () => {
  it('writes all three tables as one JSON document', () => {
    const r = runCli(['export', '--format', 'json', '--db', seeded()]);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.rounds).toHaveLength(3);
    expect(doc.ports.map((p: { port: number }) => p.port)).toEqual([4444, 4445, 4446]);
    expect(doc.ports[0]).toMatchObject({ proto: 'tcp', process: 'nc', exe: '/usr/bin/nc', user: 'me', pid: 42 });
    expect(doc.incidents).toEqual([expect.objectContaining({ status: 'new', ports: '4446/tcp appeared (nc, 62%)' })]);
  });

  it('writes one table as CSV, quoting what needs it, and honours --since', () => {
    const file = seeded();
    const r = runCli(['export', '--format', 'csv', '--what', 'incidents', '--db', file]);
    expect(r.status).toBe(0);
    const [header, row, end] = r.stdout.split('\r\n');
    expect(header).toBe('id,started_at,ended_at,rounds,peak_score,threshold,status,sentence,ports');
    expect(row).toContain('"Port 4446/tcp started listening: nc, ""never"" seen before"');
    // Times as ISO 8601 with their zone, not epoch milliseconds.
    expect(row!.split(',').slice(1, 3)).toEqual([expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)]);
    expect(end).toBe('');
    const since = runCli(['export', '--format', 'csv', '--what', 'rounds', '--since', '2026-11-20T12:01:00Z', '--db', file]);
    expect(since.stdout.trim().split('\r\n')).toHaveLength(3);
  });

  it('lists every socket of every round once older history is kept as runs, identical sockets twice', () => {
    const file = path.join(tempDir(), 'portent.db');
    const db = openDatabase(file);
    const rounds = new RoundStore(db);
    const t0 = Date.UTC(2026, 10, 20, 12, 0);
    // Two identical sockets (SO_REUSEPORT) for 100 rounds: the first 40 move into runs.
    for (let i = 0; i < 100; i++) {
      rounds.record({ host: 'h', startedAt: t0 + i * 60_000, endedAt: t0 + i * 60_000 + 5, outcome: { sockets: [{ ...socket, proto: 'tcp', port: 8080 }, { ...socket, proto: 'tcp', port: 8080 }], connections: [] } });
    }
    expect(db.prepare('SELECT count(*) FROM rounds_ports_runs').pluck().get()).toBe(1);
    db.close();
    const r = runCli(['export', '--format', 'csv', '--what', 'ports', '--since', '2026-11-20T12:30:00Z', '--db', file]);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\r\n').slice(1);
    expect(lines).toHaveLength(2 * 70);
    expect(lines[0]).toMatch(/^\d+,2026-11-20T12:30:00\.000Z,tcp,8080,4,0\.0\.0\.0,42,nc,\/usr\/bin\/nc,me$/);
  });

  it('refuses what it cannot do', () => {
    const file = seeded();
    expect(runCli(['export', '--db', file])).toMatchObject({ status: 2, stderr: expect.stringContaining('--format must be json or csv') });
    expect(runCli(['export', '--format', 'csv', '--db', file])).toMatchObject({ status: 2, stderr: expect.stringContaining('CSV holds one table') });
    expect(runCli(['export', '--format', 'json', '--what', 'packets', '--db', file])).toMatchObject({ status: 2, stderr: expect.stringContaining('--what must be one of') });
    expect(csvCell('a\nb')).toBe('"a\nb"');
    expect(csvCell(null)).toBe('');
  });
});
