import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { PORTENT_VERSION } from '../../../src/shared/version';
import { exitOf, runCli, startCli, waitForOutput } from '../../support/cli';
import { tempDir } from '../../support/tmp';

describe('portent CLI', () => {
  it('prints its version', () => {
    const r = runCli(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(PORTENT_VERSION);
  });

  it('prints help naming its commands', () => {
    const r = runCli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: portent <command>/);
    expect(r.stdout).toMatch(/\n\s+run\s+Run the monitor/);
  });

  it('rejects an unknown command with a clear message and a non-zero exit', () => {
    const r = runCli(['frobnicate']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });

  it('rejects an unknown flag with the command usage', () => {
    const r = runCli(['run', '--frequency', '3']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/portent run: Unknown option '--frequency'/);
    expect(r.stderr).toMatch(/Usage: portent run/);
  });

  it('runs the monitor on the default database in PORTENT_HOME until SIGTERM', async () => {
    const home = tempDir();
    const child = startCli(['run'], { PORTENT_HOME: home });
    const exit = exitOf(child);
    await waitForOutput(child.stderr, /"msg":"monitor started"/);
    child.kill('SIGTERM');
    const { code } = await exit;
    expect(code).toBe(0);
    const db = new Database(path.join(home, 'portent.db'), { readonly: true });
    expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'rounds'").pluck().get()).toBe(1);
    db.close();
    const logged = fs.readFileSync(path.join(home, 'logs', 'portent.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    expect(logged.map((l) => l.msg)).toEqual(expect.arrayContaining(['monitor started', 'stopping', 'monitor stopped']));
  });

  it('honours --db and stops cleanly on SIGINT', async () => {
    const file = path.join(tempDir(), 'elsewhere', 'mine.db');
    const child = startCli(['run', '--db', file]);
    const exit = exitOf(child);
    await waitForOutput(child.stderr, /"msg":"monitor started"/);
    child.kill('SIGINT');
    expect((await exit).code).toBe(0);
    expect(fs.existsSync(file)).toBe(true);
  });

  it('refuses to run on a file that is not a database, without touching it', () => {
    const file = path.join(tempDir(), 'photo.db');
    fs.writeFileSync(file, 'not sqlite at all');
    const r = runCli(['run', '--db', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is not a SQLite database/);
    expect(fs.readFileSync(file, 'utf8')).toBe('not sqlite at all');
  });
});
