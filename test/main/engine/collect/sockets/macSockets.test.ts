import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LinuxSocketScanner } from '../../../../../src/main/engine/collect/sockets/linuxSockets';
import { LSOF, LSOF_ARGS, MacSocketScanner, runCommand, type CommandRunner } from '../../../../../src/main/engine/collect/sockets/macSockets';

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
      { file: '/usr/sbin/lsof', args: ['-nP', '-w', '-a', '-p', '1,231,410,512,644,1201,2301,2890,3110,6001', '-d', 'txt', '-Fpfn'] },
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

  it('skips the second lsof when nothing is listening', async () => {
    const { calls, scanner } = replay('p9\ncsafari\nf3\ntIPv4\nPTCP\nn10.0.0.2:50000->1.1.1.1:443\nTST=ESTABLISHED\n', '');
    const snap = await scanner.scan();
    expect(calls).toHaveLength(1);
    expect(snap.sockets).toEqual([]);
    expect(snap.connections[0]).toEqual({ proto: 'tcp', remotePortClass: 'well-known', count: 1 });
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
});
