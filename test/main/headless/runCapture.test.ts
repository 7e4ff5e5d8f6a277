import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { exitOf, repoRoot, runCli, startCli, waitForOutput } from '../../support/cli';
import { tempDir } from '../../support/tmp';
import { captureAllowed, setprivUnavailable } from '../engine/collect/capture/support/privilege';
import { builtCaptureHelper, installedCaptureHelper } from '../../../src/main/engine/collect/capture/captureHelper';
import { echoOnce, listenTcpEcho } from '../engine/collect/capture/support/servers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const allowed = captureAllowed();

const noSetpriv = setprivUnavailable();

describe.runIf(process.platform === 'linux')('portent run with packet capture', () => {
  // Root without an installed helper captures through the one built with the installation (the
  // helper opens the capture, the monitor decodes in a thread); `--capture-helper none` keeps cap
  // in a capture process of its own. Both must store the same.
  const builtHelper = builtCaptureHelper();
  it.skipIf(!allowed.ok).each([
    { how: 'through the built helper (root, none installed)', args: [] as string[], helper: process.getuid?.() === 0 && installedCaptureHelper() === null ? builtHelper : undefined },
    { how: 'with cap in a capture process (--capture-helper none)', args: ['--capture-helper', 'none'], helper: null },
  ])("stores each round's flows and headers, linked to the listener's port and process: $how", async ({ args, helper }) => {
    const echo = await listenTcpEcho('127.0.0.1');
    const port = (echo.address() as net.AddressInfo).port;
    const file = path.join(tempDir(), 'portent.db');
    // Handshake packets only, so the count is exact whatever the kernel does with ACKs.
    const child = startCli(['run', '--round-seconds', '1', '--db', file, '--iface', 'lo', '--filter', `tcp port ${port} and tcp[tcpflags] & tcp-syn != 0`, ...args]);
    const exit = exitOf(child);
    const connections = 6;
    try {
      const seen = await waitForOutput(child.stderr, /"msg":"packet capture on".*\n/);
      const on = seen.split('\n').find((l) => l.includes('"msg":"packet capture on"'))!;
      if (helper !== undefined) expect(JSON.parse(on) as { helper: string | null }).toMatchObject({ helper });
      for (let i = 0; i < connections; i++) {
        await echoOnce(port, '127.0.0.1', `round trip ${i}`);
        await sleep(300);
      }
      // Traffic is stored with the round after it; wait for two more.
      await sleep(2200);
    } finally {
      child.kill('SIGTERM');
    }
    expect((await exit).code).toBe(0);
    echo.close();

    const db = new Database(file, { readonly: true });
    const portId = db.prepare("SELECT id FROM ports WHERE proto = 'tcp' AND port = ?").pluck().get(port) as number;
    const mine = db.prepare('SELECT DISTINCT process_id FROM rounds_ports WHERE port_id = ? AND pid = ?').pluck().all(portId, process.pid);
    expect(mine).toHaveLength(1);
    const flows = db.prepare('SELECT round_id, local_port, remote_port, direction, packets, tcp_flags, port_id, process_id FROM flows').all() as {
      round_id: number; local_port: number; remote_port: number; direction: string; packets: number; tcp_flags: number; port_id: number | null; process_id: number | null;
    }[];
    expect(flows.reduce((n, f) => n + f.packets, 0)).toBe(2 * connections);
    for (const f of flows) {
      expect(f).toMatchObject({ direction: 'local', port_id: portId, process_id: mine[0] });
      expect(f.local_port === port || f.remote_port === port).toBe(true);
      // The round's own scan saw the listener the flow is linked to.
      expect(db.prepare('SELECT count(*) FROM rounds_ports WHERE round_id = ? AND port_id = ?').pluck().get(f.round_id, portId)).toBeGreaterThan(0);
    }
    expect(flows.filter((f) => f.local_port === port).map((f) => f.tcp_flags)).toEqual(Array(connections).fill(0x12));
    const packets = db.prepare('SELECT count(*) FROM packets WHERE port_id = ? AND process_id = ?').pluck().get(portId, mine[0]);
    expect(packets).toBe(2 * connections);
    const states = db.prepare('SELECT state, iface, sum(packets_seen) AS seen, sum(packets_kept) AS kept, max(kernel_drops) AS drops FROM round_capture GROUP BY state').all();
    expect(states).toEqual([{ state: 'on', iface: 'lo', seen: 2 * connections, kept: 2 * connections, drops: 0 }]);
    db.close();
  });

  it.skipIf(noSetpriv !== null)(`without CAP_NET_RAW says capture is off once, records why, and keeps scanning (${noSetpriv ?? 'root minus CAP_NET_RAW via setpriv'})`, async () => {
    const file = path.join(tempDir(), 'portent.db');
    const cli = path.join(repoRoot, 'src', 'main', 'headless', 'cli.ts');
    const child = spawn('setpriv', ['--bounding-set=-net_raw', '--inh-caps=-net_raw', process.execPath, '--import', 'tsx', cli, 'run', '--round-seconds', '1', '--db', file, '--iface', 'lo'], {
      cwd: repoRoot,
    });
    const exit = exitOf(child);
    try {
      await waitForOutput(child.stderr, /packet capture is off: permission denied on lo/);
      await sleep(2500);
    } finally {
      child.kill('SIGTERM');
    }
    expect((await exit).code).toBe(0);
    const log = fs.readFileSync(path.join(path.dirname(file), 'logs', 'portent.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { msg: string; level: string; howToFix?: string });
    const off = log.filter((l) => l.msg.startsWith('packet capture is off'));
    expect(off).toHaveLength(1);
    expect(off[0]).toMatchObject({ level: 'warn', msg: expect.stringMatching(/^packet capture is off: permission denied on lo \(/), howToFix: expect.stringContaining('portent capture-setup') });

    const db = new Database(file, { readonly: true });
    const rounds = db.prepare("SELECT r.id, c.state, c.iface, c.message FROM rounds r LEFT JOIN round_capture c ON c.round_id = r.id WHERE r.status = 'ok'").all() as { state: string; message: string }[];
    expect(rounds.length).toBeGreaterThanOrEqual(2);
    for (const r of rounds) expect(r).toMatchObject({ state: 'off', iface: 'lo', message: expect.stringMatching(/^packet capture is off: permission denied on lo/) });
    expect(db.prepare('SELECT count(*) FROM rounds_ports').pluck().get()).toBeGreaterThan(0);
    expect(db.prepare('SELECT count(*) FROM flows').pluck().get()).toBe(0);
    db.close();
  });

  it('refuses capture options together with --no-capture', () => {
    const r = runCli(['run', '--no-capture', '--iface', 'lo', '--db', path.join(tempDir(), 'x.db')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--no-capture cannot be combined with --iface or --filter/);
  });
});
