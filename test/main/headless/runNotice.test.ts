import { spawn } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { exitOf, runCli, startCli, waitForOutput } from '../../support/cli';
import { tempDir } from '../../support/tmp';

/**
 * Time to notice, end to end with time compressed (one-second rounds): after learning, a new
 * listener is told by the scoring that follows the first round that shows it, long before the
 * next hourly detection (here every 120 rounds).
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

describe.runIf(process.platform === 'linux')('portent run: time to notice', () => {
  it('tells a new listener within two rounds of its first one, by scoring the changed round, not at the hourly detection', async () => {
    const file = path.join(tempDir(), 'portent.db');
    expect(runCli(['config', 'set', 'detection.learningHours', '1', '--db', file]).status).toBe(0);
    const child = startCli(['run', '--round-seconds', '1', '--detect-every', '120', '--no-capture', '--db', file]);
    const exit = exitOf(child);
    let listener: ReturnType<typeof spawn> | undefined;
    let port: number;
    let told: Told | undefined;
    try {
      await waitForOutput(child.stderr, /"msg":"detection finished".*"learning":false/, 200_000);
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
    const fullRuns = db.prepare("SELECT count(*) FROM detection_runs WHERE scope = 'full'").pluck().get();
    db.close();
    // Recorded by a scoring right after the round that first showed the listener. Its start is
    // stamped in the worker, after the worker has loaded (about half a second built, seconds
    // under tsx on a busy machine): a few one-second rounds here, well inside a real round.
    expect(told!.scope).toBe('score');
    expect(told!.startedAt).toBe(first);
    expect(told!.runStartedAt - first).toBeLessThanOrEqual(10_000);
    // Only the detection that ended learning had run: no hourly job told it.
    expect(fullRuns).toBe(1);
  }, 300_000);
});
