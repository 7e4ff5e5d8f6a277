/**
 * Who talks to whom, end to end: the real monitor (`portent run`) capturing on one end of a veth
 * pair whose other end lives in a network namespace this test creates. Inside it, a listener on
 * 4444 (what a reverse shell calls home to) and a DNS responder; outside, a child process that
 * resolves the listener's name through that responder, connects to it, and also connects to a
 * listener of this test over loopback. Traffic goes only to loopback and to addresses inside the
 * namespace. Needs root (namespaces, capture).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitOf, repoRoot, startCli, waitForOutput } from '../../support/cli';
import { tempDir } from '../../support/tmp';

const NS = `portent-t${process.pid}`;
const HOST_IF = `pth${process.pid % 100000}`;
const NS_IF = `ptn${process.pid % 100000}`;
const HOST_ADDR = '10.213.7.1';
const NS_ADDR = '10.213.7.2';
const NAME = 'c2.portent.test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function unavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces are Linux-only';
  if (process.getuid?.() !== 0) return 'needs root for network namespaces and capture';
  if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 (ip) is not installed';
  const probe = spawnSync('ip', ['netns', 'add', `${NS}-probe`]);
  if (probe.status !== 0) return `cannot create a network namespace here: ${String(probe.stderr).trim()}`;
  spawnSync('ip', ['netns', 'del', `${NS}-probe`]);
  return null;
}
const why = unavailable();

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** A node script run inside the namespace, from the checkout so that it finds dns-packet. */
function inNamespace(script: string): ChildProcess {
  return spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', script], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] });
}

const LISTENER = `
  require('net').createServer((s) => s.pipe(s)).listen(4444, '${NS_ADDR}', () => console.log('ready'));
  process.stdin.on('end', () => process.exit(0)).resume();`;

const RESPONDER = `
  const dgram = require('dgram');
  const dnsPacket = require('dns-packet');
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const name = q.questions[0] && q.questions[0].name;
    const answers = name === '${NAME}' ? [{ type: 'A', name, ttl: 30, data: '${NS_ADDR}' }] : [];
    sock.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE | (answers.length ? 0 : 3), questions: q.questions, answers }), rinfo.port, rinfo.address);
  });
  sock.bind(53, '${NS_ADDR}', () => console.log('ready'));
  process.stdin.on('end', () => process.exit(0)).resume();`;

/** Resolves the name through the namespace's responder, then holds a connection to what it named and one to `loopbackPort`. */
const TALKER = (loopbackPort: number) => `
  const dns = require('dns');
  const net = require('net');
  const r = new dns.Resolver();
  r.setServers(['${NS_ADDR}']);
  r.resolve4('${NAME}', (err, addrs) => {
    if (err) { console.error(err.message); process.exit(3); }
    const out = net.connect(4444, addrs[0], () => {
      out.write('hello');
      const back = net.connect(${loopbackPort}, '127.0.0.1', () => console.log(out.localPort + ' ' + back.localPort));
    });
  });
  process.stdin.on('end', () => process.exit(0)).resume();`;

async function ready(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(String(d).trim()));
    child.once('exit', (code) => reject(new Error(`exited with ${code} before it was ready`)));
  });
}

function stop(child: ChildProcess | undefined): Promise<unknown> {
  if (!child || child.exitCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin?.end();
  child.kill();
  return exited;
}

describe.skipIf(why !== null)(`connections end to end through a network namespace (${why ?? 'root, ip netns, capture on a veth pair'})`, () => {
  const children: ChildProcess[] = [];
  let loopback: net.Server;
  const accepted: net.Socket[] = [];
  let db: Database.Database;
  let talker: ChildProcess;
  let ports: { out: number; back: number; loopback: number };

  beforeAll(async () => {
    ip('netns', 'add', NS);
    ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF);
    ip('link', 'set', NS_IF, 'netns', NS);
    ip('addr', 'add', `${HOST_ADDR}/24`, 'dev', HOST_IF);
    ip('link', 'set', HOST_IF, 'up');
    ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${NS_ADDR}/24`, 'dev', NS_IF);
    ip('netns', 'exec', NS, 'ip', 'link', 'set', NS_IF, 'up');
    ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
    for (const script of [LISTENER, RESPONDER]) {
      const c = inNamespace(script);
      children.push(c);
      expect(await ready(c)).toBe('ready');
    }
    loopback = net.createServer((s) => accepted.push(s));
    await new Promise<void>((resolve) => loopback.listen(0, '127.0.0.1', resolve));

    const file = path.join(tempDir(), 'portent.db');
    const monitor = startCli(['run', '--round-seconds', '1', '--db', file, '--iface', HOST_IF]);
    const exit = exitOf(monitor);
    try {
      await waitForOutput(monitor.stderr, /"msg":"packet capture on"/);
      talker = spawn(process.execPath, ['-e', TALKER((loopback.address() as net.AddressInfo).port)], { stdio: ['pipe', 'pipe', 'inherit'] });
      children.push(talker);
      const [out, back] = (await ready(talker)).split(' ').map(Number);
      ports = { out: out!, back: back!, loopback: (loopback.address() as net.AddressInfo).port };
      // Traffic is stored with the round after it; connections with every round.
      await sleep(3500);
    } finally {
      monitor.kill('SIGTERM');
    }
    expect((await exit).code).toBe(0);
    db = new Database(file, { readonly: true });
  }, 60_000);

  afterAll(async () => {
    db?.close();
    for (const s of accepted) s.destroy();
    await new Promise((resolve) => (loopback ? loopback.close(resolve) : resolve(null)));
    await Promise.all(children.map(stop));
    spawnSync('ip', ['netns', 'del', NS]);
    spawnSync('ip', ['link', 'del', HOST_IF]);
  });

  type Row = { address: string; port: number; name: string | null; direction: string; local_port: number | null; state: string; pid: number | null; process: string | null; exe: string | null; user: string | null; rounds: number };
  const spans = (): Row[] =>
    db
      .prepare(
        `SELECT e.address, e.port, e.name, s.direction, s.local_port, s.state, s.pid, p.name AS process, p.exe, p.user, sum(s.last_round_id - s.first_round_id + 1) AS rounds
         FROM connection_spans s JOIN remote_endpoints e ON e.id = s.endpoint_id LEFT JOIN processes p ON p.id = s.process_id
         GROUP BY e.id, s.direction, s.local_port, s.state, s.pid, s.process_id ORDER BY e.address, e.port`,
      )
      .all() as Row[];

  it('records the outbound connection into the namespace under the process that opened it, named by the DNS answer it used', () => {
    const exe = realpathSync(process.execPath);
    const user = os.userInfo().username;
    expect(spans().filter((s) => s.address === NS_ADDR && s.port === 4444)).toEqual([
      { address: NS_ADDR, port: 4444, name: NAME, direction: 'out', local_port: null, state: 'established', pid: talker.pid, process: 'node', exe, user, rounds: expect.any(Number) },
    ]);
  });

  it('records both ends of the loopback connection: out from the child, in on our listener', () => {
    const local = spans().filter((s) => s.address === '127.0.0.1' && ((s.direction === 'out' && s.port === ports.loopback) || (s.direction === 'in' && s.local_port === ports.loopback)));
    expect(local.map((s) => [s.direction, s.port, s.local_port, s.pid])).toEqual([
      ['in', 0, ports.loopback, process.pid],
      ['out', ports.loopback, null, talker.pid],
    ]);
  });

  it("gives the captured flows of that connection its process, though no listener of this machine is involved", () => {
    const flows = db
      .prepare(
        `SELECT f.direction, f.local_port, f.remote_port, sum(f.packets) AS packets, p.name AS process
         FROM flows f LEFT JOIN processes p ON p.id = f.process_id WHERE f.remote_addr = ? AND f.remote_port = 4444 GROUP BY f.process_id`,
      )
      .all(NS_ADDR) as { direction: string; local_port: number; remote_port: number; packets: number; process: string | null }[];
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({ direction: 'outbound', local_port: ports.out, process: 'node' });
    // The handshake, the five bytes and their echo, at least.
    expect(flows[0]!.packets).toBeGreaterThanOrEqual(5);
    // The DNS answer was seen on the wire (it named the endpoint above).
    expect(db.prepare("SELECT count(*) FROM packets WHERE dns_answer LIKE ?").pluck().get(`%${NS_ADDR}%`)).toBeGreaterThanOrEqual(1);
  });
});
