import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { collectRound } from '../../../src/main/engine/collect/collectRound';
import { createSocketScanner } from '../../../src/main/engine/collect/sockets';
import { silentLogger } from '../../../src/main/engine/log';
import { openDatabase } from '../../../src/main/engine/store/database';
import { RoundStore } from '../../../src/main/engine/store/rounds';
import { exitOf, runCli, startCli, waitForOutput } from '../../support/cli';
import { tempDir } from '../../support/tmp';

/**
 * Time to notice, end to end: a model trained beforehand (`portent detect` on real rounds of
 * this machine), then the monitor with one-second rounds and no full detection for an hour of
 * them. A new listener must be told by the scoring that follows the round that first shows it.
 */
interface Told {
  startedAt: number;
  runStartedAt: number;
  scope: string;
}

/** The incident naming `port`, with the run that recorded it (read-only, beside the monitor). */
function toldAbout(file: string, port: number): Told | undefined {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare<[number], Told>(
        `SELECT i.started_at AS startedAt, d.started_at AS runStartedAt, d.scope FROM incidents i JOIN incident_ports ip ON ip.incident_id = i.id
         JOIN detection_runs d ON d.id = i.run_id WHERE ip.port = ? ORDER BY i.id LIMIT 1`,
      )
      .get(port);
  } finally {
    db.close();
  }
}

/** Real rounds of this machine, one minute apart, ending a few minutes ago. */
async function seedRounds(file: string, n: number): Promise<void> {
  const db = openDatabase(file);
  const store = new RoundStore(db);
  const scanner = createSocketScanner();
  const start = Date.now() - (n + 3) * 60_000;
  for (let i = 0; i < n; i++) await collectRound({ scanner, store, host: os.hostname(), log: silentLogger, now: () => start + i * 60_000 });
  db.close();
}

/** Real rounds of this machine, then a model trained on them by `portent detect` (an hour's learning), out of learning. */
async function trainedOn(file: string, rounds: number): Promise<void> {
  await seedRounds(file, rounds);
  expect(runCli(['config', 'set', 'detection.learningHours', '1', '--db', file]).status).toBe(0);
  const learned = runCli(['detect', '--json', '--db', file]);
  expect(learned.status, learned.stderr).toBe(0);
  expect(JSON.parse(learned.stdout).learning.learning).toBe(false);
}

describe.runIf(process.platform === 'linux')('portent run: time to notice', () => {
  it('tells a new listener by scoring the round that changed, with no full detection in between', async () => {
    const file = path.join(tempDir(), 'portent.db');
    await trainedOn(file, 90);

    // A full detection every 3,600 one-second rounds: none during this test.
    const child = startCli(['run', '--round-seconds', '1', '--detect-every', '3600', '--no-capture', '--db', file]);
    const exit = exitOf(child);
    let listener: ReturnType<typeof spawn> | undefined;
    let port: number;
    let told: Told | undefined;
    let started: number;
    try {
      await waitForOutput(child.stderr, /"msg":"monitor started"/);
      started = Date.now();
      listener = spawn(process.execPath, ['-e', "require('net').createServer().listen(0, '127.0.0.1', function () { console.log(this.address().port) }); setInterval(() => {}, 1e9)"]);
      port = Number((await waitForOutput(listener.stdout!, /\d+\n/)).trim());
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && !(told = toldAbout(file, port))) await new Promise((r) => setTimeout(r, 250));
    } finally {
      listener?.kill('SIGKILL');
      child.kill('SIGTERM');
    }
    expect((await exit).code).toBe(0);
    expect(told, 'no incident names the listener').toBeDefined();
    const db = new Database(file, { readonly: true });
    const first = db
      .prepare("SELECT min(r.started_at) FROM rounds r JOIN rounds_ports rp ON rp.round_id = r.id JOIN ports p ON p.id = rp.port_id WHERE p.proto = 'tcp' AND p.port = ?")
      .pluck()
      .get(port) as number;
    const fullSince = db.prepare("SELECT count(*) FROM detection_runs WHERE scope = 'full' AND started_at >= ?").pluck().get(started - 1_000);
    db.close();
    // Recorded by a scoring after the round that first showed the listener, from that round on.
    // (How soon, in seconds, depends on how fast the machine starts a worker: bench:notice
    // measures it, about 0.4 s.)
    expect(told!.scope).toBe('score');
    expect(told!.startedAt).toBe(first);
    expect(told!.runStartedAt).toBeGreaterThanOrEqual(first);
    expect(fullSince).toBe(0);
  }, 300_000);

  it('tells a port missing from a program that still runs within a few rounds, by scoring, with no full detection in between', async () => {
    const file = path.join(tempDir(), 'portent.db');
    // A program with two listeners, running all through the learned history; told on stdin, it closes the second.
    const program = spawn(process.execPath, [
      '-e',
      "const net = require('net'); const a = net.createServer().listen(0, '127.0.0.1', () => { const b = net.createServer().listen(0, '127.0.0.1', () => { console.log(a.address().port + ' ' + b.address().port); process.stdin.once('data', () => b.close()); }); }); setInterval(() => {}, 1e9)",
    ]);
    try {
      const [, second] = (await waitForOutput(program.stdout!, /\d+ \d+\n/)).trim().split(' ').map(Number) as [number, number];
      await trainedOn(file, 150);

      const child = startCli(['run', '--round-seconds', '1', '--detect-every', '3600', '--no-capture', '--db', file]);
      const exit = exitOf(child);
      let told: Told | undefined;
      let closedAt = 0;
      try {
        await waitForOutput(child.stderr, /"msg":"monitor started"/);
        await new Promise((r) => setTimeout(r, 3_000));
        closedAt = Date.now();
        program.stdin!.write('close\n');
        const deadline = Date.now() + 60_000;
        while (Date.now() < deadline && !(told = toldAbout(file, second))) await new Promise((r) => setTimeout(r, 250));
      } finally {
        child.kill('SIGTERM');
      }
      expect((await exit).code).toBe(0);
      expect(told, 'no incident names the port that went').toBeDefined();
      const db = new Database(file, { readonly: true });
      const direction = db.prepare('SELECT direction FROM incident_ports WHERE port = ?').pluck().get(second);
      const fullSince = db.prepare("SELECT count(*) FROM detection_runs WHERE scope = 'full' AND started_at >= ?").pluck().get(closedAt - 4_000);
      db.close();
      expect(direction).toBe('vanished');
      expect(told!.scope).toBe('score');
      expect(fullSince).toBe(0);
      // Two rounds of absence are what the rule needs; the scoring follows the second.
      expect(told!.runStartedAt - closedAt).toBeLessThan(5_000);
    } finally {
      program.kill('SIGKILL');
    }
  }, 300_000);
});
