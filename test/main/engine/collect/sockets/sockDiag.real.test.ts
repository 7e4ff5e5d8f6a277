import { createRequire } from 'node:module';
import dgram from 'node:dgram';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinuxSocketScanner } from '../../../../../src/main/engine/collect/sockets/linuxSockets';
import { parseProcNet, type ProcNetRow } from '../../../../../src/main/engine/collect/sockets/procNet';
import { dumpTable, loadSockDiag, RowDecoder, type SockDiag } from '../../../../../src/main/engine/collect/sockets/sockDiag';
import type { Proto, Snapshot } from '../../../../../src/main/engine/collect/sockets/types';

// The addon against the kernel's own /proc/net text, on sockets this test opens: every kind of
// bound socket and connection the scanner tells apart, in both families and dual-stack.
// On Linux the addon is a required dependency: these tests fail, never skip, when it is missing
// or does not work.
const diag = ((): SockDiag | null => {
  if (process.platform !== 'linux') return null;
  const d = loadSockDiag();
  d.dump(6, 4, 0);
  return d;
})();

const TABLES: Array<{ file: string; proto: Proto; family: 4 | 6 }> = [
  { file: 'tcp', proto: 'tcp', family: 4 },
  { file: 'tcp6', proto: 'tcp', family: 6 },
  { file: 'udp', proto: 'udp', family: 4 },
  { file: 'udp6', proto: 'udp', family: 6 },
];

function listen(options: net.ListenOptions, servers: net.Server[], accepted: net.Socket[]): Promise<number> {
  const server = net.createServer((conn) => accepted.push(conn));
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => resolve((server.address() as net.AddressInfo).port));
  });
}

function connect(port: number, host: string, clients: net.Socket[]): Promise<void> {
  const client = net.connect(port, host);
  clients.push(client);
  return new Promise((resolve, reject) => client.once('connect', resolve).once('error', reject));
}

function udp(type: 'udp4' | 'udp6', address: string, ipv6Only: boolean, all: dgram.Socket[]): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type, ipv6Only });
  all.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => resolve(socket));
  });
}

describe.runIf(process.platform === 'linux')('portent-sockdiag against /proc/net on real sockets', () => {
  it('is the installed package, built by npm ci', () => {
    const installed = createRequire(import.meta.url)('portent-sockdiag') as SockDiag;
    expect(typeof installed.dump).toBe('function');
    expect(loadSockDiag()).toBe(installed);
  });

  const servers: net.Server[] = [];
  const tcpSockets: net.Socket[] = [];
  const udpSockets: dgram.Socket[] = [];
  const ours = new Set<number>();

  beforeAll(async () => {
    const port = (p: number) => (ours.add(p), p);
    const tcp4 = port(await listen({ port: 0, host: '127.0.0.1' }, servers, tcpSockets));
    const tcp6 = port(await listen({ port: 0, host: '::1', ipv6Only: true }, servers, tcpSockets));
    const dual = port(await listen({ port: 0, host: '::', ipv6Only: false }, servers, tcpSockets));
    // Enough listeners that the dump spans several netlink datagrams.
    for (let i = 0; i < 60; i++) port(await listen({ port: 0, host: i % 2 ? '::1' : '127.0.0.1' }, servers, tcpSockets));
    // An IPv4 client of the dual-stack listener is an IPv6 socket on ::ffff:127.0.0.1.
    await connect(tcp4, '127.0.0.1', tcpSockets);
    await connect(tcp6, '::1', tcpSockets);
    await connect(dual, '127.0.0.1', tcpSockets);
    await connect(dual, '::1', tcpSockets);
    for (const c of tcpSockets) if (c.localPort) ours.add(c.localPort);

    const u4 = await udp('udp4', '127.0.0.1', false, udpSockets);
    await udp('udp6', '::1', true, udpSockets);
    await udp('udp6', '::', false, udpSockets);
    const connected = await udp('udp4', '127.0.0.1', false, udpSockets);
    await new Promise<void>((resolve) => connected.connect(u4.address().port, '127.0.0.1', resolve));
    for (const s of udpSockets) port(s.address().port);
  });

  afterAll(async () => {
    for (const s of tcpSockets) s.destroy();
    for (const s of udpSockets) s.close();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  const mine = (rows: ProcNetRow[], proto: Proto) =>
    rows
      .filter((r) => ours.has(r.localPort) || ours.has(r.remotePort))
      // The TCP states the scanner reads; other states (TIME_WAIT...) are never dumped.
      .filter((r) => proto === 'udp' || r.state === 10 || r.state === 1)
      .map((r) => JSON.stringify(r))
      .sort();

  it.each(TABLES)('dumps the same $file rows as /proc/net/$file, inode and uid included', ({ file, proto, family }) => {
    const fromProc = mine(parseProcNet(readFileSync(`/proc/net/${file}`, 'latin1'), family), proto);
    const fromNetlink = mine(dumpTable(diag!, proto, family, undefined), proto);
    expect(fromNetlink.length).toBeGreaterThan(0);
    expect(fromNetlink).toEqual(fromProc);
  });

  it.each(TABLES)('packs the same $file rows as it dumps as objects, and reuses the rows of sockets that stayed', ({ proto, family }) => {
    const decoder = new RowDecoder();
    decoder.begin();
    const packed = dumpTable(diag!, proto, family, undefined, decoder);
    expect(mine(packed, proto)).toEqual(mine(dumpTable(diag!, proto, family, undefined), proto));
    decoder.begin();
    const again = dumpTable(diag!, proto, family, undefined, decoder);
    const before = new Map(packed.map((r) => [r.inode, r]));
    const ours2 = again.filter((r) => ours.has(r.localPort) || ours.has(r.remotePort));
    expect(ours2.length).toBeGreaterThan(0);
    // The same kernel socket, unchanged: the very same row object, nothing decoded again.
    for (const r of ours2) expect(before.get(r.inode)).toBe(r);
  });

  it('prints addresses as the /proc parser does: dual-stack ::, IPv4-mapped peers, loopback', () => {
    const tcp6 = dumpTable(diag!, 'tcp', 6, undefined).filter((r) => ours.has(r.localPort));
    const addresses = new Set(tcp6.map((r) => r.localAddress));
    expect([...addresses].sort()).toEqual(['::', '::1', '::ffff:127.0.0.1']);
    const udp6 = dumpTable(diag!, 'udp', 6, undefined).filter((r) => ours.has(r.localPort));
    expect(udp6.map((r) => r.localAddress).sort()).toEqual(['::', '::1']);
  });

  it('gives the scanner the same bound sockets and connection counts through either source', async () => {
    const viaNetlink = new LinuxSocketScanner({ source: 'netlink' });
    const viaProc = new LinuxSocketScanner({ source: 'proc' });
    const bound = (snap: Snapshot) => snap.sockets.filter((s) => ours.has(s.port));
    // Other programs open and close connections between the two scans: retry until calm.
    let pair: [Snapshot, Snapshot] = [await viaNetlink.scan(), await viaProc.scan()];
    for (let i = 0; i < 10 && JSON.stringify(pair[0].connections) !== JSON.stringify(pair[1].connections); i++) {
      pair = [await viaNetlink.scan(), await viaProc.scan()];
    }
    expect(bound(pair[0])).toHaveLength(63 + 3);
    expect(bound(pair[0])).toEqual(bound(pair[1]));
    expect(pair[0].connections).toEqual(pair[1].connections);
    expect(pair[0].connections.find((c) => c.proto === 'udp')).toBeDefined();
    expect([viaNetlink.tableSource, viaProc.tableSource]).toEqual(['netlink', 'proc']);
  });

  it('closes its netlink socket on every call', () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    for (let i = 0; i < 2000; i++) {
      const family = i % 4 < 2 ? 4 : 6;
      if (i % 2) diag!.dump(6, family, 1 << 10);
      else diag!.dump(17, family, 0xffffffff);
    }
    expect(fds()).toBe(before);
  });

  it('refuses arguments it does not understand', () => {
    const dump = diag!.dump as (...args: unknown[]) => unknown;
    expect(() => dump(1, 4, 0)).toThrow(RangeError);
    expect(() => dump(6, 5, 0)).toThrow(RangeError);
    expect(() => dump('6', 4, 0)).toThrow(TypeError);
    expect(() => dump(6, 4)).toThrow(TypeError);
  });
});
