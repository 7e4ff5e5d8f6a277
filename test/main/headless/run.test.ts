import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/main/engine/store/database';
import { exitOf, repoRoot, runCli, startCli, waitForOutput } from '../../support/cli';
import { tempDir } from '../../support/tmp';

describe.runIf(process.platform === 'linux')('portent run (accelerated)', () => {
  it('records a round every second with a listener the test holds, then stops on SIGTERM', async () => {
    const server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as net.AddressInfo).port;
    const file = path.join(tempDir(), 'portent.db');
    const child = startCli(['run', '--round-seconds', '1', '--db', file]);
    const exit = exitOf(child);
    try {
      await waitForOutput(child.stderr, /"msg":"monitor started"/);
      await new Promise((r) => setTimeout(r, 3500));
    } finally {
      child.kill('SIGTERM');
    }
    // Closed only once the monitor has exited: a graceful stop scans one last round.
    expect((await exit).code).toBe(0);
    server.close();
    const db = new Database(file, { readonly: true });
    const rounds = db.prepare("SELECT started_at FROM rounds WHERE status = 'ok' ORDER BY started_at").pluck().all() as number[];
    expect(rounds.length).toBeGreaterThanOrEqual(2);
    // Aligned to the clock: each round starts within the first part of its second; the last may
    // be the one a graceful stop scans to store the traffic since the round before.
    for (const t of rounds.slice(0, -1)) expect(t % 1000).toBeLessThan(500);
    const held = db
      .prepare("SELECT count(DISTINCT rp.round_id) FROM rounds_ports rp JOIN ports p ON p.id = rp.port_id WHERE p.proto = 'tcp' AND p.port = ?")
      .pluck()
      .get(port);
    expect(held).toBe(rounds.length);
    db.close();
  });

  it('survives SIGKILL: the database opens cleanly and keeps every finished round', async () => {
    const file = path.join(tempDir(), 'portent.db');
    const child = startCli(['run', '--round-seconds', '1', '--db', file]);
    const exit = exitOf(child);
    await waitForOutput(child.stderr, /"msg":"monitor started"/);
    await new Promise((r) => setTimeout(r, 2600));
    child.kill('SIGKILL');
    expect((await exit).signal).toBe('SIGKILL');
    const db = openDatabase(file);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const rounds = db.prepare('SELECT status, ended_at FROM rounds').all() as { status: string; ended_at: number | null }[];
    expect(rounds.length).toBeGreaterThanOrEqual(1);
    // Rounds are written whole or not at all: none is left half-done.
    for (const r of rounds) expect(r).toMatchObject({ status: 'ok', ended_at: expect.any(Number) });
    const orphans = db.prepare('SELECT count(*) FROM rounds_ports WHERE round_id NOT IN (SELECT id FROM rounds)').pluck().get();
    expect(orphans).toBe(0);
    db.close();
  });

  it('runs detection on its schedule in a worker, skipping ticks while one runs, and stops cleanly', async () => {
    const file = path.join(tempDir(), 'portent.db');
    const child = startCli(['run', '--round-seconds', '1', '--detect-every', '2', '--no-capture', '--db', file]);
    const exit = exitOf(child);
    try {
      await waitForOutput(child.stderr, /"msg":"detection finished"/, 90_000);
      // That line ends the port model's part; the run is finished once the traffic model's thread
      // has finished it too.
      const finished = () => {
        const db = new Database(file, { readonly: true, fileMustExist: true });
        try {
          return (db.prepare("SELECT count(*) FROM detection_runs WHERE status = 'ok'").pluck().get() as number) > 0;
        } finally {
          db.close();
        }
      };
      for (const end = Date.now() + 60_000; !finished(); ) {
        if (Date.now() > end) throw new Error('no detection run finished within a minute of the port model');
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      child.kill('SIGTERM');
    }
    expect((await exit).code).toBe(0);
    const db = new Database(file, { readonly: true });
    const runs = db.prepare("SELECT trigger, status FROM detection_runs WHERE status = 'ok'").all();
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(runs[0]).toEqual({ trigger: 'schedule', status: 'ok' });
    // Every scored round is a real, finished round.
    const orphans = db.prepare("SELECT count(*) FROM round_scores s JOIN rounds r ON r.id = s.round_id WHERE r.status != 'ok'").pluck().get();
    expect(orphans).toBe(0);
    expect(db.prepare('SELECT count(*) FROM round_scores').pluck().get()).toBeGreaterThanOrEqual(1);
    db.close();
  }, 120_000);

  it('refuses a detection period that does not divide a minute or an hour', () => {
    const r = runCli(['run', '--round-seconds', '1', '--detect-every', '7', '--db', path.join(tempDir(), 'x.db')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--detect-every must be a number of rounds/);
  });

  it('refuses a round length that does not divide a minute', () => {
    const r = runCli(['run', '--round-seconds', '7', '--db', path.join(tempDir(), 'x.db')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--round-seconds must be a whole divisor of 60/);
  });

  it('says, without a stack trace, that it cannot write where its database is (as an unprivileged user)', () => {
    const dir = tempDir();
    fs.chmodSync(dir, 0o755);
    const locked = path.join(dir, 'locked');
    fs.mkdirSync(locked, { mode: 0o555 });
    const cli = path.join(repoRoot, 'src', 'main', 'headless', 'cli.ts');
    // As root, run as nobody: root may write anywhere.
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const r = spawnSync(process.execPath, ['--import', 'tsx', cli, 'run', '--no-capture', '--db', path.join(locked, 'portent.db')], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH, HOME: os.tmpdir() }, ...asUser });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^portent run: cannot write the log .*locked\/logs\/portent\.log \(EACCES: permission denied, mkdir .*\); run Portent where this user may write, with --db PATH or PORTENT_HOME\n/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe.runIf(process.platform === 'linux')('portent run under npm', () => {
  it('stops cleanly when npm, the process a user or a service manager knows, gets SIGTERM', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'portent.db');
    const npm = spawn('npm', ['run', '-s', 'portent', '--', 'run', '--round-seconds', '1', '--no-capture', '--db', db], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    const log = path.join(dir, 'logs', 'portent.log');
    const until = async (what: string, ok: () => boolean, ms: number) => {
      const end = Date.now() + ms;
      while (!ok()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const ours = () => spawnSync('pgrep', ['-f', `cli.ts run --round-seconds 1 --no-capture --db ${db}`], { encoding: 'utf8' }).stdout.trim();
    await until('the monitor to start', () => fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('"msg":"monitor started"'), 30_000);
    expect(ours()).not.toBe('');
    npm.kill('SIGTERM');
    await until('the monitor to stop', () => fs.readFileSync(log, 'utf8').includes('"msg":"monitor stopped"'), 15_000);
    await until('no monitor process left', () => ours() === '', 5_000);
    // It stopped as on SIGTERM: the database is released, so another monitor may open it.
    const again = runCli(['status', '--db', db]);
    expect(again.stdout).toMatch(/Monitoring:\s+not running/);
  }, 60_000);
});
