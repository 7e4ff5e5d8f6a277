import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync, realpathSync } from 'node:fs';
import net from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LinuxSocketScanner } from '../../../../../src/main/engine/collect/sockets/linuxSockets';
import { LSOF, LSOF_ARGS, MacSocketScanner, runCommand, type CommandRunner } from '../../../../../src/main/engine/collect/sockets/macSockets';
import { compareConnections, type ConnectionEntry } from '../../../../../src/main/engine/collect/sockets/types';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../fixtures/lsof');
const fixture = (name: string) => readFileSync(path.join(fixtures, name), 'utf8');

describe('MacSocketScanner on recorded lsof output', () => {
  // macOS cannot run here: these are hand-written outputs in lsof's -F format (see
  // lsofParser.test.ts), replayed in place of the real commands.
  function replay(sockets: string, texts: string) {
    const calls: Array<{ file: string; args: readonly string[] }> = [];
    const run: CommandRunner = async (file, args) => {
      calls.push({ file, args });
      return args.includes('txt') ? texts : sockets;
    };
    return { calls, scanner: new MacSocketScanner({ run, now: () => 1234 }) };
  }

  it("runs lsof once for the sockets, once for the owners' program text, and fills exe from it", async () => {
    const { calls, scanner } = replay(fixture('macos-sonoma-sudo.txt'), fixture('macos-sonoma-sudo-txt.txt'));
    const snap = await scanner.scan();
    expect(calls).toEqual([
      { file: '/usr/sbin/lsof', args: LSOF_ARGS },
      { file: '/usr/sbin/lsof', args: ['-nP', '-w', '-a', '-p', '1,231,410,512,644,1201,2301,2890,3110,4021,5120,6001', '-d', 'txt', '-Fpfn'] },
    ]);
    expect(snap.takenAt).toBe(1234);
    const exe = (port: number) => snap.sockets.find((s) => s.port === port)?.exe;
    expect(exe(22)).toBe('/sbin/launchd');
    expect(exe(4444)).toBe('/usr/bin/nc');
    expect(exe(7000)).toBe('/System/Library/CoreServices/ControlCenter.app/Contents/MacOS/ControlCenter');
    // lsof showed no program text for pid 6001 (e.g. not permitted): unknown, not guessed.
    expect(exe(8000)).toBeNull();
    expect(snap.connections.reduce((n, c) => n + c.count, 0)).toBe(7);
  });

  it('fills exe for connection owners too, and leaves it null where lsof showed no program text', async () => {
    const { calls, scanner } = replay(fixture('macos-sonoma-connections.txt'), fixture('macos-sonoma-connections-txt.txt'));
    const snap = await scanner.scan();
    // 7712 shares its only socket with 7710, which owns it: its program text is not asked for.
    expect(calls[1]!.args).toEqual(['-nP', '-w', '-a', '-p', '1,231,2301,4021,5120,7001,7710', '-d', 'txt', '-Fpfn']);
    const chrome = '/Applications/Google Chrome.app/Contents/Frameworks/Google Chrome Framework.framework/Versions/131.0.6778.86/Helpers/Google Chrome Helper.app/Contents/MacOS/Google Chrome Helper';
    expect(snap.connected.map((c) => `${c.proto} ${c.remoteAddress}:${c.remotePort} ${c.state} ${c.pid} ${c.process} ${c.user} ${c.exe}`)).toEqual([
      `tcp 140.82.112.25:443 close-wait 4021 Google Chrome Helper alice ${chrome}`,
      `tcp 142.250.74.78:443 established 4021 Google Chrome Helper alice ${chrome}`,
      `tcp 151.101.1.69:443 syn-sent 4021 Google Chrome Helper alice ${chrome}`,
      `tcp 17.253.53.207:443 fin-wait-1 4021 Google Chrome Helper alice ${chrome}`,
      'tcp 192.168.1.10:22 established 5120 ssh 502 null',
      `tcp 2606:4700::6810:84e5:443 established 4021 Google Chrome Helper alice ${chrome}`,
      `tcp 2a00:1450:4007:80e::200e:443 established 4021 Google Chrome Helper alice ${chrome}`,
      'tcp ::1:3000 established 7001 curl alice /usr/bin/curl',
      'tcp ::1:50744 established 2301 node alice /opt/homebrew/Cellar/node/22.9.0/bin/node',
      'tcp ::ffff:192.168.1.40:51514 established 7710 sshd root /usr/sbin/sshd',
      `udp 142.250.74.78:443 connected 4021 Google Chrome Helper alice ${chrome}`,
      'udp 192.168.1.1:53 connected 231 mDNSResponder _mdnsresponder /usr/sbin/mDNSResponder',
      'udp 2a01:e0a:1f3:9a40::1:53 connected 231 mDNSResponder _mdnsresponder /usr/sbin/mDNSResponder',
    ]);
    expect(snap.sockets.find((s) => s.port === 3000)?.exe).toBe('/opt/homebrew/Cellar/node/22.9.0/bin/node');
  });

  it('asks for the program text of a process that only talks', async () => {
    const { calls, scanner } = replay('p9\ncsafari\nf3\ntIPv4\nPTCP\nn10.0.0.2:50000->1.1.1.1:443\nTST=ESTABLISHED\n', 'p9\nftxt\nn/Applications/Safari.app/Contents/MacOS/Safari\n');
    const snap = await scanner.scan();
    expect(calls[1]!.args).toEqual(['-nP', '-w', '-a', '-p', '9', '-d', 'txt', '-Fpfn']);
    expect(snap.sockets).toEqual([]);
    expect(snap.connected).toEqual([
      { proto: 'tcp', family: 4, localAddress: '10.0.0.2', localPort: 50000, remoteAddress: '1.1.1.1', remotePort: 443, state: 'established', pid: 9, process: 'safari', exe: '/Applications/Safari.app/Contents/MacOS/Safari', user: null },
    ]);
    expect(snap.connections[0]).toEqual({ proto: 'tcp', remotePortClass: 'well-known', count: 1 });
  });

  it('skips the second lsof when no socket is recorded', async () => {
    const { calls, scanner } = replay('p9\ncsafari\nf3\ntIPv4\nPTCP\nn10.0.0.2:50000->1.1.1.1:443\nTST=TIME_WAIT\n', '');
    const snap = await scanner.scan();
    expect(calls).toHaveLength(1);
    expect(snap.sockets).toEqual([]);
    expect(snap.connected).toEqual([]);
    expect(snap.connections.every((c) => c.count === 0)).toBe(true);
  });
});

const linuxLsof = (() => {
  if (process.platform !== 'linux') return null;
  try {
    return execFileSync('sh', ['-c', 'command -v lsof'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
})();

describe.skipIf(!linuxLsof)('MacSocketScanner driving the real lsof (Linux build) against real sockets', () => {
  // lsof's -F output is the same on every platform it supports, so running the macOS scanner's
  // exact command lines through Linux's lsof checks them, and the parser, against the kernel.
  const closers: Array<() => Promise<unknown>> = [];
  afterAll(() => Promise.all(closers.map((close) => close())));

  it('sees our listeners exactly as the Linux scanner does, exe included', async () => {
    const ports: Array<['tcp' | 'udp', number]> = [];
    for (const host of ['127.0.0.1', '::', '::1', '::ffff:127.0.0.1']) {
      const server = net.createServer();
      closers.push(() => new Promise((resolve) => server.close(resolve)));
      await new Promise<void>((resolve) => server.listen(0, host, resolve));
      ports.push(['tcp', (server.address() as net.AddressInfo).port]);
    }
    for (const [type, host] of [['udp4', '127.0.0.1'], ['udp6', '::1']] as const) {
      const socket = dgram.createSocket(type);
      closers.push(() => new Promise<void>((resolve) => socket.close(resolve)));
      await new Promise<void>((resolve) => socket.bind(0, host, resolve));
      ports.push(['udp', socket.address().port]);
    }

    const viaLsof = await new MacSocketScanner({ run: (file, args) => runCommand(file === LSOF ? linuxLsof! : file, args) }).scan();
    const viaProc = await new LinuxSocketScanner().scan();
    const ours = (sockets: typeof viaProc.sockets) => sockets.filter((s) => ports.some(([proto, port]) => s.proto === proto && s.port === port));
    expect(ours(viaLsof.sockets)).toHaveLength(6);
    expect(ours(viaLsof.sockets)).toEqual(ours(viaProc.sockets));
    expect(ours(viaLsof.sockets).map((s) => s.address)).toEqual(expect.arrayContaining(['127.0.0.1', '::', '::1', '::ffff:127.0.0.1']));
  });

  it('sees both ends of a loopback connection made in this process, with its pid, ports and state', async () => {
    const server = net.createServer();
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const serverPort = (server.address() as net.AddressInfo).port;
    const client = net.connect(serverPort, '127.0.0.1');
    await new Promise<void>((resolve) => client.once('connect', resolve));
    const serverSide = await accepted;
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    closers.push(async () => {
      client.destroy();
      serverSide.destroy();
    });
    const clientPort = client.localPort!;

    const snap = await new MacSocketScanner({ run: (file, args) => runCommand(file === LSOF ? linuxLsof! : file, args) }).scan();
    const owner = {
      pid: process.pid,
      process: readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim(),
      exe: realpathSync(`/proc/${process.pid}/exe`),
      user: userInfo().username,
    };
    const ours = snap.connected.filter((c) => c.proto === 'tcp' && (c.localPort === serverPort || c.remotePort === serverPort));
    const expected: ConnectionEntry[] = [
      { proto: 'tcp', family: 4, localAddress: '127.0.0.1', localPort: clientPort, remoteAddress: '127.0.0.1', remotePort: serverPort, state: 'established', ...owner },
      { proto: 'tcp', family: 4, localAddress: '127.0.0.1', localPort: serverPort, remoteAddress: '127.0.0.1', remotePort: clientPort, state: 'established', ...owner },
    ];
    expect(ours).toEqual(expected.sort(compareConnections));
    expect(snap.sockets.filter((s) => s.port === serverPort).map((s) => s.pid)).toEqual([process.pid]);
  });
});
