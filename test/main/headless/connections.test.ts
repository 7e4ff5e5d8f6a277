import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/main/engine/store/database';
import { listConnections } from '../../../src/main/engine/queries/connections';
import type { Connections } from '../../../src/shared/contract';
import { runCli } from '../../support/cli';
import { tempDir } from '../../support/tmp';
import { FLOWS, insertFlows, seedConnections, T0 } from '../engine/queries/connectionsSeed';

const SINCE = new Date(T0).toISOString();

/** A database whose rounds were written by the real RoundStore, with captured flows beside them (temp folders last one test). */
let file: string;
beforeEach(() => {
  file = path.join(tempDir(), 'portent.db');
  const db = openDatabase(file);
  insertFlows(db, seedConnections(db), FLOWS);
  db.close();
});

describe('portent connections', () => {
  it('prints per process a table of its endpoints, with names, directions, states, times and traffic', () => {
    const r = runCli(['connections', '--since', SINCE, '--db', file]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const blocks = r.stdout.trimEnd().split('\n\n');
    expect(blocks.map((b) => b.split('\n')[0])).toEqual([
      'firefox (/usr/lib/firefox/firefox, user ann): 2 endpoints',
      'bash (/usr/bin/bash, user ann): 1 endpoint',
      'curl (/usr/bin/curl, user ann): 1 endpoint',
      'node (/usr/bin/node, user ann): 1 endpoint',
      'sshd (/usr/sbin/sshd, user root): 1 endpoint',
      'owner unknown: 1 endpoint',
    ]);
    const firefox = blocks[0]!.split('\n');
    expect(firefox[1]).toMatch(/^ENDPOINT\s+PROTO\s+DIRECTION\s+STATES\s+FIRST SEEN\s+LAST SEEN\s+BYTES OUT\s+BYTES IN$/);
    expect(firefox[2]).toMatch(/^151\.101\.1\.1:443 \(new\)\s+tcp\s+out\s+established\s+2026-11-20T09:08:00Z\s+2026-11-20T09:09:00Z\s+-\s+-$/);
    expect(firefox[3]).toMatch(/^example\.com 93\.184\.216\.34:443\s+tcp\s+out\s+established,close-wait\s+2026-11-20T09:00:00Z\s+2026-11-20T09:09:00Z\s+1\.5 KB\s+49 KB$/);
    expect(blocks[4]!.split('\n')[2]).toMatch(/^10\.0\.0\.5 \(new\)\s+tcp\s+in :22\s+established\s+2026-11-20T09:02:00Z\s+2026-11-20T09:09:00Z\s+6\.8 KB\s+2\.9 KB$/);
  });

  it('--json gives what the engine query answers, and --process and --host filter it', () => {
    const r = runCli(['connections', '--since', SINCE, '--json', '--db', file]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const answer = JSON.parse(r.stdout) as Connections;
    expect(answer.from).toBe(T0);
    const db = openDatabase(file, { readonly: true });
    try {
      expect(answer).toEqual(listConnections(db, { from: answer.from, to: answer.to }));
    } finally {
      db.close();
    }
    expect(answer.processes.map((p) => p.process)).toEqual(['firefox', 'bash', 'curl', 'node', 'sshd', null]);

    const bash = JSON.parse(runCli(['connections', '--since', SINCE, '--process', 'bash', '--json', '--db', file]).stdout) as Connections;
    expect(bash.processes.map((p) => p.endpoints.map((e) => `${p.process} ${e.address}:${e.port} ${e.states.join(',')}`))).toEqual([['bash 203.0.113.9:4444 syn-sent,established']]);
    const host = runCli(['connections', '--since', SINCE, '--host', 'example', '--db', file]);
    expect(host.stdout.split('\n').filter((l) => /^\S+ \(/.test(l))).toEqual(['firefox (/usr/lib/firefox/firefox, user ann): 1 endpoint']);
    const none = runCli(['connections', '--since', SINCE, '--process', 'nc', '--db', file]);
    expect(none.stdout).toBe('No connections of process nc seen since 2026-11-20T09:00:00Z.\n');
  });

  it('refuses an unreadable --since or an unknown option with the usage line and exit 2, and a missing database with exit 1', () => {
    for (const args of [['--since', 'last tuesday'], ['--frobnicate']]) {
      const r = runCli(['connections', ...args, '--db', file]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^portent connections: (cannot read time 'last tuesday'|Unknown option '--frobnicate')/);
      expect(r.stderr).toMatch(/\nUsage: portent connections \[--since T\] \[--process NAME\] \[--host TEXT\] \[--json\] \[--db PATH\]\n$/);
    }
    const missing = path.join(tempDir(), 'none.db');
    const r = runCli(['connections', '--db', missing]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/there is no Portent database at/);
    expect(fs.existsSync(missing)).toBe(false);
  });
});

const open: net.Socket[] = [];
let server: net.Server | null = null;
afterEach(() => {
  for (const s of open.splice(0)) s.destroy();
  server?.close();
  server = null;
});

/** A connection over 127.0.0.1 held by this process at both ends, accepted before it resolves. */
async function loopbackConnection(): Promise<{ port: number; clientPort: number }> {
  const accepted = new Promise<net.Socket>((resolve) => {
    server = net.createServer((s) => resolve(s));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const port = (server!.address() as net.AddressInfo).port;
  const client = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => client.once('connect', resolve));
  open.push(client, await accepted);
  return { port, clientPort: client.localPort! };
}

describe.runIf(process.platform === 'linux')('portent scan --connections', () => {
  it('--json shows the connections this process holds, and without the flag the listeners alone as before', async () => {
    const { port, clientPort } = await loopbackConnection();
    const r = runCli(['scan', '--json', '--connections']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { sockets: Array<Record<string, unknown>>; connections: Array<Record<string, unknown>> };
    const owner = { pid: process.pid, process: fs.readFileSync('/proc/self/comm', 'utf8').trim(), exe: fs.realpathSync(process.execPath), user: os.userInfo().username };
    expect(out.sockets.find((s) => s.port === port)).toEqual({ proto: 'tcp', family: 4, address: '127.0.0.1', port, ...owner });
    expect(out.connections.filter((c) => c.localPort === clientPort || (c.localPort === port && c.remotePort === clientPort))).toEqual([
      { proto: 'tcp', family: 4, localAddress: '127.0.0.1', localPort: port, remoteAddress: '127.0.0.1', remotePort: clientPort, state: 'established', ...owner },
      { proto: 'tcp', family: 4, localAddress: '127.0.0.1', localPort: clientPort, remoteAddress: '127.0.0.1', remotePort: port, state: 'established', ...owner },
    ].sort((a, b) => a.remotePort - b.remotePort));

    const plain = JSON.parse(runCli(['scan', '--json']).stdout) as unknown;
    expect(Array.isArray(plain)).toBe(true);
    expect((plain as Array<Record<string, unknown>>).find((s) => s.port === port)).toEqual({ proto: 'tcp', family: 4, address: '127.0.0.1', port, ...owner });
  });

  it('prints the connections as a second table', async () => {
    const { port, clientPort } = await loopbackConnection();
    const r = runCli(['scan', '--connections']);
    expect(r.status).toBe(0);
    const [listeners, talkers] = r.stdout.split('\n\n');
    expect(listeners!.split('\n')[0]).toMatch(/^PROTO\s+ADDRESS\s+PORT\s+PID\s+PROCESS\s+USER\s+EXECUTABLE$/);
    expect(talkers!.split('\n')[0]).toMatch(/^PROTO\s+LOCAL\s+REMOTE\s+STATE\s+PID\s+PROCESS\s+USER\s+EXECUTABLE$/);
    expect(talkers).toMatch(new RegExp(`\\ntcp4\\s+127\\.0\\.0\\.1:${clientPort}\\s+127\\.0\\.0\\.1:${port}\\s+established\\s+${process.pid}\\s`));
  });
});
