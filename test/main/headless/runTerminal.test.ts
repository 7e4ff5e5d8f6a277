import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { roundLine } from '../../../src/main/headless/commands/run';
import type { Status } from '../../../src/shared/contract';
import { repoRoot, runCli } from '../../support/cli';
import { tempDir } from '../../support/tmp';

const status = (over: Partial<Status> = {}): Status => ({
  version: '0.1.0', monitoring: true, paused: false, monitoringSince: 0, database: 'x', databaseBytes: 0,
  lastRound: { id: 12, startedAt: new Date(2026, 11, 5, 9, 30, 0).getTime(), status: 'ok', error: null, ports: 23 },
  capture: { state: 'on', iface: 'eth0', message: null, remedy: [] },
  model: { state: 'learning', training: false, backend: 'cpu', version: 1, threshold: null, roundsSeen: 90, roundsNeeded: 360, progress: 0.25 },
  detection: { running: false, lastRunAt: null, lastRunStatus: null }, unscoredRounds: 0, incidents: { today: 0, week: 0, unseen: 0 }, snoozedUntil: null,
  ...over,
});

describe('run in a terminal', () => {
  it('has one line per round, once each', () => {
    expect(roundLine(status(), null)).toEqual({ roundId: 12, text: '09:30:00 round 12: 23 listening sockets, capture on eth0, learning 25%' });
    expect(roundLine(status(), 12)).toBeNull();
    expect(roundLine(status({ model: { ...status().model, state: 'ready', progress: 1 }, incidents: { today: 1, week: 1, unseen: 1 }, capture: { state: 'off', iface: null, message: 'x', remedy: [] } }), 11)?.text).toBe(
      '09:30:00 round 12: 23 listening sockets, capture off, watching, 1 unseen incident',
    );
    expect(roundLine(status({ lastRound: { id: 13, startedAt: new Date(2026, 11, 5, 9, 31).getTime(), status: 'failed', error: 'EACCES', ports: 0 } }), 12)?.text).toBe('09:31:00 round 13: failed (EACCES)');
    expect(roundLine(status({ lastRound: null }), null)).toBeNull();
  });

  it.runIf(process.platform === 'linux')('prints them on a terminal (a pseudo-terminal from script), and not when stderr is a pipe', () => {
    const db = path.join(tempDir(), 'portent.db');
    const cli = path.join(repoRoot, 'src', 'main', 'headless', 'cli.ts');
    const command = `timeout -s INT 4 ${process.execPath} --import tsx ${cli} run --round-seconds 1 --no-capture --db ${db}`;
    const tty = spawnSync('script', ['-qfec', command, '/dev/null'], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
    expect(tty.stdout).toMatch(/\d\d:\d\d:\d\d round \d+: \d+ listening sockets, capture off, learning 0%/);
    const piped = runCli(['run', '--round-seconds', '1', '--no-capture', '--db', path.join(tempDir(), 'p.db')], {}, 3000);
    expect(piped.stderr).toContain('"msg":"monitor started"');
    expect(piped.stderr).not.toMatch(/ round \d+: /);
  });
});
