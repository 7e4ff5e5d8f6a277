import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { exitOf, repoRoot, startCli } from '../../../support/cli';
import { tempDir } from '../../../support/tmp';
import { eventually, linesWith, roundsSoFar, storedRoundIds } from './support';

/**
 * Longer than the monitor's busy timeout (5 s), so at least one round gives up waiting and takes
 * the skip path; a 30-second hold behaves the same, with more rounds skipped.
 */
const HOLD_MS = 12_000;

/** Another program: opens the same file with better-sqlite3, takes the write lock, holds it, lets go. */
const LOCKER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.pragma('busy_timeout = 10000');
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\\n');
setTimeout(() => { db.exec('COMMIT'); db.close(); process.stdout.write('released\\n'); }, Number(process.argv[2]));
`;

const LOCKED = 'another program holds the database locked for writing: rounds are skipped (each waits for the lock first) until it lets go';

describe.runIf(process.platform === 'linux')('another process holds the write lock on the database', () => {
  it(`portent run waits for the lock, skips the rounds it cannot store with one message, and records again (held ${HOLD_MS / 1000} s)`, async () => {
    const file = path.join(tempDir(), 'portent.db');
    const child = startCli(['run', '--round-seconds', '1', '--no-capture', '--db', file]);
    const exit = exitOf(child);
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const lines = () => stderr.split('\n');
    let locker: ChildProcess | null = null;
    let lockerExit: Promise<unknown> = Promise.resolve();
    try {
      expect(await eventually(() => roundsSoFar(file).length >= 2, 300)).toBe(true);
      const before = storedRoundIds(file);
      locker = spawn(process.execPath, ['-e', LOCKER, file, String(HOLD_MS)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
      const held = locker;
      lockerExit = new Promise((resolve) => held.once('exit', resolve));
      let out = '';
      locker.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
      expect(await eventually(() => out.includes('locked'), 300)).toBe(true);
      const lockedAt = Date.now();
      expect(await eventually(() => out.includes('released'), 300)).toBe(true);
      expect(Date.now() - lockedAt).toBeGreaterThanOrEqual(HOLD_MS - 1000);
      // The monitor stayed up throughout, and said so once.
      const lastBefore = before.at(-1)!;
      expect(child.exitCode).toBeNull();
      expect(linesWith(lines(), LOCKED)).toHaveLength(1);
      const skipped = JSON.parse(linesWith(lines(), LOCKED)[0]!) as { fault: string; error: string };
      expect(skipped).toMatchObject({ fault: 'database-locked', error: 'database is locked' });

      expect(await eventually(() => linesWith(lines(), 'rounds are recorded again').length > 0, 100)).toBe(true);
      const back = JSON.parse(linesWith(lines(), 'rounds are recorded again')[0]!) as { fault: string; roundsSkipped: number };
      expect(back.fault).toBe('database-locked');
      expect(back.roundsSkipped).toBeGreaterThanOrEqual(1);
      const after = storedRoundIds(file);
      expect(await eventually(() => storedRoundIds(file).filter((id) => id > lastBefore).length >= 3, 100)).toBe(true);
      expect(after.slice(0, before.length)).toEqual(before);
      expect(linesWith(lines(), 'collect failed')).toEqual([]);

      child.kill('SIGTERM');
      expect((await exit).code).toBe(0);
      const db = new Database(file, { readonly: true });
      try {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      } finally {
        db.close();
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (locker && locker.exitCode === null && locker.signalCode === null) locker.kill('SIGKILL');
      await Promise.all([exit, lockerExit]);
    }
  }, 120_000);
});
