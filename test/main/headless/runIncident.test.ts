import { spawn } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/main/engine/store/database';
import { exitOf, runCli, startCli, waitForOutput } from '../../support/cli';
import { tempDir } from '../../support/tmp';

/**
 * The monitor end to end, with time compressed: one-second rounds each standing for a minute,
 * a one-"hour" learning period (60 rounds) and detection every 10 rounds. The test holds a
 * listener of its own from a child process, on a port nothing else uses, and expects Portent to
 * name that process in an incident; then it stops the monitor with SIGTERM, starts it again and
 * kills it with SIGKILL, and checks the database each time.
 */
/** Whether an incident names `port` yet (read-only, beside the running monitor). */
function blamedFor(file: string, port: number): boolean {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM incident_ports WHERE port = ?').pluck().get(port) !== 0;
  } finally {
    db.close();
  }
}

describe.runIf(process.platform === 'linux')('portent run: a new listener becomes an incident', () => {
  it('learns, alerts on the listener with its process, and keeps its database whole through SIGTERM and SIGKILL', async () => {
    const file = path.join(tempDir(), 'portent.db');
    expect(runCli(['config', 'set', 'detection.learningHours', '1', '--db', file]).status).toBe(0);
    const args = ['run', '--round-seconds', '1', '--detect-every', '10', '--no-capture', '--db', file];
    const child = startCli(args);
    const exit = exitOf(child);
    let listener: ReturnType<typeof spawn> | undefined;
    let port: number;
    try {
      await waitForOutput(child.stderr, /"msg":"monitor started"/);
      // Learning ends at the first detection after 60 rounds; the listener appears after that,
      // in its own process, on a port the kernel picks.
      await waitForOutput(child.stderr, /"msg":"detection finished".*"learning":false/, 150_000);
      listener = spawn(process.execPath, ['-e', "require('net').createServer().listen(0, '127.0.0.1', function () { console.log(this.address().port) }); setInterval(() => {}, 1e9)"]);
      port = Number((await waitForOutput(listener.stdout!, /\d+\n/)).trim());
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && !blamedFor(file, port)) await new Promise((r) => setTimeout(r, 1000));
    } finally {
      listener?.kill('SIGKILL');
      child.kill('SIGTERM');
    }
    expect((await exit).code).toBe(0);

    const db = new Database(file, { readonly: true });
    const held = db
      .prepare("SELECT count(*) FROM rounds_ports rp JOIN ports p ON p.id = rp.port_id WHERE p.proto = 'tcp' AND p.port = ?")
      .pluck()
      .get(port) as number;
    expect(held).toBeGreaterThanOrEqual(1);
    const blamed = db.prepare('SELECT process, pid, direction FROM incident_ports WHERE port = ?').all(port) as { process: string; pid: number; direction: string }[];
    expect(blamed).toContainEqual({ process: 'node', pid: listener!.pid, direction: 'appeared' });
    db.close();
    expect(JSON.parse(runCli(['anomalies', '--json', '--db', file]).stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ sentence: expect.stringContaining(`Port ${port}/tcp started listening`) })]),
    );

    // Again, and this time no chance to finish: SIGKILL mid-run.
    const again = startCli(args);
    const killed = exitOf(again);
    await waitForOutput(again.stderr, /"msg":"monitor started"/);
    await new Promise((r) => setTimeout(r, 2500));
    again.kill('SIGKILL');
    expect((await killed).signal).toBe('SIGKILL');
    const reopened = openDatabase(file);
    expect(reopened.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(reopened.prepare("SELECT count(*) FROM rounds WHERE status != 'ok' OR ended_at IS NULL").pluck().get()).toBe(0);
    reopened.close();
    // The claim the killed monitor left behind does not stop the next one.
    expect(JSON.parse(runCli(['status', '--json', '--db', file]).stdout).monitoring).toBe(false);
  }, 300_000);
});
