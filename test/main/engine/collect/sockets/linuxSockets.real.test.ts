import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync, realpathSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocketScanner } from '../../../../../src/main/engine/collect/sockets';
import type { TableSource } from '../../../../../src/main/engine/collect/sockets/linuxSockets';
import { parseSockstatInUse } from '../../../../../src/main/engine/collect/sockets/procNet';
import { compareConnections, remotePortClass, type ConnectionEntry, type Proto, type Snapshot, type SocketEntry } from '../../../../../src/main/engine/collect/sockets/types';

// Real sockets, the real kernel, and `ss` (iproute2, over netlink) as the independent witness.
// Every test runs once per table source; on Linux the netlink addon is required, so never skipped.
const linux = process.platform === 'linux';
const SOURCES: Array<{ source: TableSource; skip: boolean }> = [
  { source: 'proc', skip: !linux },
  { source: 'netlink', skip: !linux },
];
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');

interface SsSocket {
  proto: Proto;
  address: string;
  port: number;
  pid: number | null;
  process: string | null;
}

/**
 * `ss -Htulnp` lines: netid state recv-q send-q local peer [users:(("name",pid=N,fd=N),...)].
 * ss writes IPv6 in brackets, an interface as `%dev`, and a dual-stack `::` as `*`; /proc cannot
 * tell dual-stack from IPv6-only, so both become `::` here, as in the scanner. A socket shared by
 * several processes lists them all; the lowest pid is kept, as the scanner does.
 */
function ssListening(): SsSocket[] {
  const out = execFileSync('ss', ['-Htulnp'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const [netid, , , , local] = line.trim().split(/\s+/);
      const colon = local!.lastIndexOf(':');
      let address = local!.slice(0, colon).replace(/%[^\]]*$/, '');
      if (address.startsWith('[')) address = address.slice(1, -1);
      if (address === '*') address = '::';
      const users = [...line.matchAll(/\("([^"]*)",pid=(\d+),/g)].map((m) => ({ name: m[1]!, pid: Number(m[2]) }));
      users.sort((a, b) => a.pid - b.pid);
      return { proto: netid as Proto, address, port: Number(local!.slice(colon + 1)), pid: users[0]?.pid ?? null, process: users[0]?.name ?? null };
    });
}

function listen(server: net.Server, options: net.ListenOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => resolve((server.address() as net.AddressInfo).port));
  });
}

function bind(socket: dgram.Socket, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => resolve(socket.address().port));
  });
}

for (const { source, skip } of SOURCES) {
  describe.skipIf(skip)(`Linux scanner against real sockets, tables from ${source}`, () => {
    const servers: net.Server[] = [];
    const sockets: Array<net.Socket | dgram.Socket> = [];
    let child: ChildProcess;
    const ports = { tcp4: 0, tcpDual: 0, udp4: 0, udp6: 0, child: 0, connected: 0, client: 0, childClient: 0, udpClient: 0, halfClosed: 0, halfClient: 0 };
    let snap: Snapshot;
    const exe = realpathSync(process.execPath);
    const user = os.userInfo().username;

    beforeAll(async () => {
      const server = (): net.Server => {
        const s = net.createServer((conn) => sockets.push(conn));
        servers.push(s);
        return s;
      };
      ports.tcp4 = await listen(server(), { port: 0, host: '127.0.0.1' });
      ports.tcpDual = await listen(server(), { port: 0, host: '::', ipv6Only: false });
      const u4 = dgram.createSocket('udp4');
      const u6 = dgram.createSocket({ type: 'udp6', ipv6Only: true });
      sockets.push(u4, u6);
      ports.udp4 = await bind(u4, '127.0.0.1');
      ports.udp6 = await bind(u6, '::1');

      // One established connection: its client and server ends are one row each.
      ports.connected = await listen(server(), { port: 0, host: '127.0.0.1' });
      const client = net.connect(ports.connected, '127.0.0.1');
      sockets.push(client);
      await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
      ports.client = client.localPort!;

      // A connected UDP socket (what a DNS client holds): one row, state 'connected'.
      const udpClient = dgram.createSocket('udp4');
      sockets.push(udpClient);
      await bind(udpClient, '127.0.0.1');
      await new Promise<void>((resolve) => udpClient.connect(ports.udp4, '127.0.0.1', resolve));
      ports.udpClient = udpClient.address().port;

      // A connection the peer closed: this end stays in CLOSE_WAIT until it closes too, the
      // listener's end in FIN_WAIT2.
      ports.halfClosed = await listen(
        (() => {
          const s = net.createServer((conn) => {
            sockets.push(conn);
            conn.end();
          });
          servers.push(s);
          return s;
        })(),
        { port: 0, host: '127.0.0.1' },
      );
      const half = net.connect({ port: ports.halfClosed, host: '127.0.0.1', allowHalfOpen: true });
      sockets.push(half);
      await new Promise<void>((resolve, reject) => half.once('end', resolve).once('error', reject));
      ports.halfClient = half.localPort!;

      // A listener owned by another process, which also connects out to ours. It exits when its
      // stdin closes, even if we crash.
      child = spawn(process.execPath, ['-e', `
        const net = require('net');
        const s = net.createServer().listen(0, '127.0.0.1', () => {
          const c = net.connect(Number(process.argv[1]), '127.0.0.1', () => console.log(s.address().port + ' ' + c.localPort));
        });
        process.stdin.on('end', () => process.exit(0)).resume();
      `, String(ports.tcp4)], { stdio: ['pipe', 'pipe', 'inherit'] });
      const [childPort, childClient] = await new Promise<number[]>((resolve, reject) => {
        child.stdout!.once('data', (d: Buffer) => resolve(String(d).trim().split(' ').map(Number)));
        child.once('error', reject);
      });
      ports.child = childPort!;
      ports.childClient = childClient!;

      snap = await createSocketScanner('linux', { source }).scan();
    });

    afterAll(async () => {
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.stdin!.end();
        child.kill();
        await exited;
      }
      for (const s of sockets) {
        if (s instanceof net.Socket) s.destroy();
        else s.close();
      }
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    });

    const at = (proto: Proto, port: number): SocketEntry[] => snap.sockets.filter((s) => s.proto === proto && s.port === port);

    it('reports our TCP and UDP listeners with pid, process, exe and user', () => {
      const comm = ssListening().find((s) => s.proto === 'tcp' && s.port === ports.tcp4)?.process;
      expect(comm).toBeTruthy();
      const me = { pid: process.pid, process: comm, exe, user };
      expect(at('tcp', ports.tcp4)).toEqual([{ proto: 'tcp', family: 4, address: '127.0.0.1', port: ports.tcp4, ...me }]);
      expect(at('udp', ports.udp4)).toEqual([{ proto: 'udp', family: 4, address: '127.0.0.1', port: ports.udp4, ...me }]);
      expect(at('udp', ports.udp6)).toEqual([{ proto: 'udp', family: 6, address: '::1', port: ports.udp6, ...me }]);
    });

    it('reports a dual-stack listener once, as the kernel has it: family 6 on ::', () => {
      expect(at('tcp', ports.tcpDual)).toEqual([
        { proto: 'tcp', family: 6, address: '::', port: ports.tcpDual, pid: process.pid, process: expect.any(String), exe, user },
      ]);
    });

    it("reports another process's listener under that process", () => {
      expect(at('tcp', ports.child)).toEqual([
        { proto: 'tcp', family: 4, address: '127.0.0.1', port: ports.child, pid: child.pid, process: 'node', exe, user },
      ]);
    });

    it('does not list either end of the established connection as a listener, and counts it', () => {
      expect(at('tcp', ports.client)).toEqual([]);
      expect(at('tcp', ports.connected)).toHaveLength(1);
      // Other programs on this machine hold connections too, so only a lower bound is certain.
      const expected = new Map<string, number>();
      for (const remote of [ports.connected, ports.client]) expected.set(remotePortClass(remote), (expected.get(remotePortClass(remote)) ?? 0) + 1);
      for (const [cls, n] of expected) {
        expect(snap.connections.find((c) => c.proto === 'tcp' && c.remotePortClass === cls)!.count).toBeGreaterThanOrEqual(n);
      }
      expect(snap.connections).toHaveLength(6);
    });

    it('reports both ends of the established connection, each with its owner', () => {
      const me = { pid: process.pid, process: expect.any(String), exe, user };
      const ends = snap.connected.filter((c) => c.proto === 'tcp' && [c.localPort, c.remotePort].sort().join() === [ports.client, ports.connected].sort().join());
      expect(ends).toEqual([
        { proto: 'tcp', family: 4, localAddress: '127.0.0.1', localPort: ports.connected, remoteAddress: '127.0.0.1', remotePort: ports.client, state: 'established', ...me },
        { proto: 'tcp', family: 4, localAddress: '127.0.0.1', localPort: ports.client, remoteAddress: '127.0.0.1', remotePort: ports.connected, state: 'established', ...me },
      ].sort((a, b) => compareConnections(a as ConnectionEntry, b as ConnectionEntry)));
    });

    it("reports another process's outbound connection under that process", () => {
      expect(snap.connected.filter((c) => c.localPort === ports.childClient && c.remotePort === ports.tcp4)).toEqual([
        { proto: 'tcp', family: 4, localAddress: '127.0.0.1', localPort: ports.childClient, remoteAddress: '127.0.0.1', remotePort: ports.tcp4, state: 'established', pid: child.pid, process: 'node', exe, user },
      ]);
    });

    it('reports a connected UDP socket, and TCP ends in CLOSE_WAIT and FIN_WAIT2', () => {
      expect(snap.connected.filter((c) => c.proto === 'udp' && c.localPort === ports.udpClient)).toEqual([
        { proto: 'udp', family: 4, localAddress: '127.0.0.1', localPort: ports.udpClient, remoteAddress: '127.0.0.1', remotePort: ports.udp4, state: 'connected', pid: process.pid, process: expect.any(String), exe, user },
      ]);
      const half = snap.connected.filter((c) => c.proto === 'tcp' && (c.localPort === ports.halfClient || c.remotePort === ports.halfClient));
      expect(half.map((c) => [c.localPort === ports.halfClient ? 'client' : 'server', c.state]).sort()).toEqual([
        ['client', 'close-wait'],
        ['server', 'fin-wait-2'],
      ]);
      // The CLOSE_WAIT end is still open in this process.
      expect(half.find((c) => c.localPort === ports.halfClient)?.pid).toBe(process.pid);
    });

    it('agrees with ss -Htulnp on (proto, address, port, pid, process) for every socket we opened', () => {
      const ours = new Set([`tcp/${ports.tcp4}`, `tcp/${ports.tcpDual}`, `tcp/${ports.connected}`, `tcp/${ports.child}`, `udp/${ports.udp4}`, `udp/${ports.udp6}`]);
      const key = (s: { proto: Proto; address: string; port: number; pid: number | null; process: string | null }) =>
        `${s.proto} ${s.address} ${s.port} ${s.pid} ${s.process}`;
      const fromSs = ssListening().filter((s) => ours.has(`${s.proto}/${s.port}`)).map(key).sort();
      const fromScan = snap.sockets.filter((s) => ours.has(`${s.proto}/${s.port}`)).map(key).sort();
      expect(fromSs).toHaveLength(6);
      expect(fromScan).toEqual(fromSs);
    });

    it('finds every socket the tables hold counted in sockstat, which decides which tables are read', () => {
      const inUse = parseSockstatInUse(readFileSync('/proc/net/sockstat', 'latin1') + readFileSync('/proc/net/sockstat6', 'latin1'));
      // Three IPv4 listeners (ours, the connected one, the child's) and both ends of the connection.
      expect(inUse.get('TCP')).toBeGreaterThanOrEqual(5);
      expect(inUse.get('TCP6')).toBeGreaterThanOrEqual(1);
      expect(inUse.get('UDP')).toBeGreaterThanOrEqual(1);
      expect(inUse.get('UDP6')).toBeGreaterThanOrEqual(1);
    });

    it.skipIf(process.getuid?.() !== 0)("shows root's sockets with unknown owners to an unprivileged user, never guessed", () => {
      const script = `import(${JSON.stringify(path.join(repoRoot, 'src/main/engine/collect/sockets/linuxSockets.ts'))})
        .then(async (m) => process.stdout.write(JSON.stringify(await new m.LinuxSocketScanner({ source: '${source}' }).scan())))`;
      const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
        cwd: repoRoot,
        uid: 65534,
        gid: 65534,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: os.tmpdir() },
      });
      const seen = (JSON.parse(out) as Snapshot).sockets.filter((s) => s.proto === 'tcp' && s.port === ports.tcp4);
      expect(seen).toEqual([{ proto: 'tcp', family: 4, address: '127.0.0.1', port: ports.tcp4, pid: null, process: null, exe: null, user: null }]);
    });
  });

  describe.skipIf(skip)(`Linux scanner with tables longer than one read(), from ${source}`, () => {
    // /proc/net/tcp hands out about one page per read() and the scanner stops at the first short
    // read; 150 listeners (~22 KiB of table) make sure it does not stop early.
    const closers: Array<() => Promise<unknown>> = [];
    afterAll(() => Promise.all(closers.map((close) => close())));

    it('finds every one of 150 TCP listeners and 150 UDP sockets', async () => {
      const tcp: number[] = [];
      const udp: number[] = [];
      for (let i = 0; i < 150; i++) {
        const server = net.createServer();
        closers.push(() => new Promise((resolve) => server.close(resolve)));
        tcp.push(await listen(server, { port: 0, host: '127.0.0.1' }));
        const socket = dgram.createSocket('udp4');
        closers.push(() => new Promise<void>((resolve) => socket.close(resolve)));
        udp.push(await bind(socket, '127.0.0.1'));
      }
      const snap = await createSocketScanner('linux', { source }).scan();
      const mine = (proto: Proto) =>
        snap.sockets.filter((s) => s.proto === proto && s.pid === process.pid && s.address === '127.0.0.1').map((s) => s.port);
      expect(mine('tcp')).toEqual(expect.arrayContaining(tcp));
      expect(mine('udp')).toEqual(expect.arrayContaining(udp));
    });
  });
}
