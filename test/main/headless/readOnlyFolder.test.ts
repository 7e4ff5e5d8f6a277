/**
 * A database in a folder its user may only read (read-only media, a backup, a folder that lost
 * its write bit) can still be read by the reading commands. The monitor writes it for real and
 * stops cleanly; then the folder is made read-only and the commands run as that user (nobody,
 * through setpriv).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { exitOf, repoRoot, startCli, waitForOutput } from '../../support/cli';
import { tempDir } from '../../support/tmp';
import { setprivUnavailable } from '../engine/collect/capture/support/privilege';

const NOBODY = 65534;
const why = setprivUnavailable();
const cli = path.join(repoRoot, 'src', 'main', 'headless', 'cli.ts');

function asNobody(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, '--import', 'tsx', cli, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Hands `dir` and everything in it to nobody, the folder read-only (r-x), the files 0600. */
function readOnlyFor(dir: string): void {
  for (const f of fs.readdirSync(dir)) {
    const p = path.join(dir, f);
    fs.chownSync(p, NOBODY, NOBODY);
    if (fs.statSync(p).isFile()) fs.chmodSync(p, 0o600);
  }
  fs.chownSync(dir, NOBODY, NOBODY);
  fs.chmodSync(dir, 0o500);
}

describe.skipIf(why !== null)(`a database in a folder its user may only read (${why ?? 'as nobody via setpriv'})`, () => {
  it('is read by status, ports, export and connections after the monitor stopped cleanly', async () => {
    const parent = tempDir();
    fs.chmodSync(parent, 0o755);
    const dir = path.join(parent, 'data');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'portent.db');
    const monitor = startCli(['run', '--db', file, '--round-seconds', '1', '--no-capture']);
    const exit = exitOf(monitor);
    try {
      await waitForOutput(monitor.stderr, /"msg":"monitor started"/);
      await new Promise((r) => setTimeout(r, 2500));
    } finally {
      monitor.kill('SIGTERM');
    }
    expect((await exit).code).toBe(0);
    // At rest without a write-ahead log: nothing beside the file for a reader to create.
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('portent.db')).sort()).toEqual(['portent.db']);
    readOnlyFor(dir);
    const before = fs.readdirSync(dir).sort();

    const status = asNobody(['status', '--db', file]);
    expect(status.stderr).toBe('');
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/^Last round: +\d{4}-\d\d-\d\dT[\d:]+Z, \d+ sockets$/m);
    const ports = asNobody(['ports', '--db', file, '--json']);
    expect(ports.status).toBe(0);
    expect((JSON.parse(ports.stdout) as unknown[]).length).toBeGreaterThan(0);
    const exported = asNobody(['export', '--format', 'json', '--what', 'rounds', '--db', file]);
    expect(exported.status).toBe(0);
    expect((JSON.parse(exported.stdout) as { rounds: unknown[] }).rounds.length).toBeGreaterThanOrEqual(2);
    const connections = asNobody(['connections', '--db', file, '--json']);
    expect(connections.stderr).toBe('');
    expect(connections.status).toBe(0);
    // Nothing was written beside it.
    expect(fs.readdirSync(dir).sort()).toEqual(before);
  }, 90_000);

  it('says why and what to do when an older Portent left it in write-ahead-log mode', () => {
    const parent = tempDir();
    fs.chmodSync(parent, 0o755);
    const dir = path.join(parent, 'data');
    fs.mkdirSync(dir);
    const file = path.join(dir, 'portent.db');
    // A database as the monitor makes it, then put back in WAL mode and closed, as Portent did
    // before it closed its databases in rollback mode: SQLite removes the -wal and -shm.
    const made = spawn(process.execPath, ['--import', 'tsx', cli, 'config', 'get', '--db', file], { cwd: repoRoot });
    return exitOf(made).then(({ code }) => {
      expect(code).toBe(0);
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.close();
      expect(fs.readdirSync(dir)).toEqual(['portent.db']);
      readOnlyFor(dir);
      const status = asNobody(['status', '--db', file]);
      expect(status.status).toBe(1);
      expect(status.stderr).toContain(`${file} cannot be read from a folder this user may not write: it was left in write-ahead-log mode without its portent.db-shm file`);
      expect(status.stderr).toContain('Start the monitor on it once where it can write');
    });
  });
});
