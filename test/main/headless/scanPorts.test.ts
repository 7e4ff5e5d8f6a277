import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectRound } from '../../../src/main/engine/collect/collectRound';
import { createSocketScanner } from '../../../src/main/engine/collect/sockets';
import { silentLogger } from '../../../src/main/engine/log';
import { openDatabase } from '../../../src/main/engine/store/database';
import { RoundStore } from '../../../src/main/engine/store/rounds';
import { runCli, waitForOutput } from '../../support/cli';
import { tempDir } from '../../support/tmp';

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

/** A real listener in a child process; resolves with its port and pid. */
async function childListener(): Promise<{ port: number; pid: number }> {
  const child = spawn(process.execPath, ['-e', "const s=require('net').createServer().listen(0,'127.0.0.1',()=>console.log('port='+s.address().port))"]);
  children.push(child);
  const out = await waitForOutput(child.stdout!, /port=\d+/);
  return { port: Number(/port=(\d+)/.exec(out)![1]), pid: child.pid! };
}

describe.runIf(process.platform === 'linux')('portent scan and ports', () => {
  it('scan --json lists a listener held by another process, with its pid and process', async () => {
    const { port, pid } = await childListener();
    const r = runCli(['scan', '--json']);
    expect(r.status).toBe(0);
    const sockets = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(sockets.find((s) => s.port === port)).toEqual({
      proto: 'tcp', family: 4, address: '127.0.0.1', port, pid, process: 'node', exe: fs.realpathSync(process.execPath), user: 'root',
    });
  });

  it('scan prints a readable table', async () => {
    const { port, pid } = await childListener();
    const r = runCli(['scan']);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^PROTO\s+ADDRESS\s+PORT\s+PID\s+PROCESS\s+USER\s+EXECUTABLE$/);
    expect(r.stdout).toMatch(new RegExp(`tcp4\\s+127\\.0\\.0\\.1\\s+${port}\\s+${pid}\\s+node`));
  });

  it('ports lists what rounds stored, and --since filters by time', async () => {
    const { port } = await childListener();
    const file = path.join(tempDir(), 'portent.db');
    const db = openDatabase(file);
    const store = new RoundStore(db);
    await collectRound({ scanner: createSocketScanner(), store, host: 'h', log: silentLogger, now: () => Date.UTC(2026, 0, 1) });
    db.close();

    const all = runCli(['ports', '--json', '--db', file]);
    expect(all.status).toBe(0);
    const ports = JSON.parse(all.stdout) as Array<{ proto: string; port: number; processes: string[]; rounds: number }>;
    expect(ports.find((p) => p.port === port)).toMatchObject({ proto: 'tcp', port, processes: ['node'], rounds: 1 });

    const later = runCli(['ports', '--json', '--since', '2026-06-01', '--db', file]);
    expect(JSON.parse(later.stdout)).toEqual([]);

    const table = runCli(['ports', '--db', file]);
    expect(table.stdout).toMatch(new RegExp(`tcp\\s+${port}\\s+node\\s+127\\.0\\.0\\.1\\s+1\\s+2026-01-01T00:00:00Z`));
  });

  it('ports refuses an unreadable --since with a message', () => {
    const r = runCli(['ports', '--since', 'last tuesday', '--db', path.join(tempDir(), 'x.db')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot read time 'last tuesday'/);
  });
});
