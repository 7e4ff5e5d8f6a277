/**
 * The capture helper (native/capture/portent-capture.c) and the reader of its stream. The stream
 * parser is checked on hand-made bytes cut at every boundary; the real helper captures real
 * loopback datagrams sent by the test, and its failures (unknown interface, bad filter, no
 * permission, killed mid-capture) come back as CaptureErrors or a failure with its reason.
 */
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtCaptureHelper } from '../../../../../src/main/engine/collect/capture/captureHelper';
import { CaptureError } from '../../../../../src/main/engine/collect/capture/captureErrors';
import type { DecodedPacket } from '../../../../../src/main/engine/collect/capture/decode';
import { HelperStream } from '../../../../../src/main/engine/collect/capture/helperSource';
import { openHelperCapture, type LiveCapture } from '../../../../../src/main/engine/collect/capture/liveCapture';
import { tempDir } from '../../../../support/tmp';
import { captureAllowed, setprivUnavailable } from './support/privilege';

const LOOPBACK = process.platform === 'darwin' ? 'lo0' : 'lo';
const helper = builtCaptureHelper();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
const header = (version = 1, linkType = 1, snaplen = 1536) => Buffer.concat([Buffer.from('PTCAP'), Buffer.from([version, 0, 0]), u32(linkType), u32(snaplen)]);
const packet = (bytes: Buffer, wire: number, sec: number, usec: number) => Buffer.concat([Buffer.from('P'), u32(bytes.length), u32(wire), u32(sec), u32(usec), bytes]);
const stats = (recv: number, drop: number, ifdrop: number) => Buffer.concat([Buffer.from('S'), u32(recv), u32(drop), u32(ifdrop)]);

describe('the helper stream', () => {
  const frames = [Buffer.from('first frame'), Buffer.alloc(0), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9])];
  const whole = Buffer.concat([header(), packet(frames[0]!, 60, 100, 250_000), stats(1, 0, 0), packet(frames[1]!, 0, 101, 0), packet(frames[2]!, 1500, 102, 999_999), stats(3, 2, 1)]);

  it('gives the same frames and stats however the bytes are cut', () => {
    for (const step of [1, 2, 3, 7, 16, 17, 18, whole.length]) {
      const got: { bytes: string; caplen: number; wire: number; ts: number }[] = [];
      const s = new HelperStream((frame, caplen, wire, ts) => got.push({ bytes: frame.toString('hex'), caplen, wire, ts }));
      for (let at = 0; at < whole.length; at += step) s.push(whole.subarray(at, at + step));
      expect(s.header).toEqual({ linkType: 1, snaplen: 1536 });
      expect(got).toEqual([
        { bytes: frames[0]!.toString('hex'), caplen: 11, wire: 60, ts: 100_250 },
        { bytes: '', caplen: 0, wire: 0, ts: 101_000 },
        { bytes: frames[2]!.toString('hex'), caplen: 9, wire: 1500, ts: 102_999.999 },
      ]);
      expect(s.stats).toEqual({ ps_recv: 3, ps_drop: 2, ps_ifdrop: 1 });
    }
  });

  it('refuses a stream its helper would not write', () => {
    const feed = (b: Buffer) => () => new HelperStream(() => undefined).push(b);
    expect(feed(Buffer.concat([Buffer.from('NOTUS'), Buffer.alloc(11)]))).toThrow(/something other than its stream/);
    expect(feed(header(2))).toThrow(/speaks version 2, this Portent version 1/);
    expect(feed(Buffer.concat([header(), Buffer.from('X')]))).toThrow(/corrupt \(record type 88 at byte 16\)/);
    expect(feed(Buffer.concat([header(1, 1, 64), packet(Buffer.alloc(65), 65, 0, 0)]))).toThrow(/65-byte frame, more than its snaplen 64/);
  });
});

describe.skipIf(helper === null)('the capture helper program', () => {
  it('refuses bad arguments with a usage line and status 2', () => {
    for (const args of [[], ['--interface'], ['--interface', 'lo', '--snaplen', '10'], ['--interface', 'lo', '--buffer-bytes', '1e9'], ['--interface', 'lo', '--write', '/tmp/x']]) {
      const r = spawnSync(helper ?? '', args, { encoding: 'utf8' });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^portent-capture: usage: /);
    }
    expect(spawnSync(helper ?? '', ['--version'], { encoding: 'utf8' }).stdout).toMatch(/^portent-capture 1 libpcap version/);
  });

  const nobody = setprivUnavailable();
  it.skipIf(nobody !== null)(`says permission-denied when run without the right to capture (${nobody ?? 'as nobody'})`, () => {
    const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all', helper ?? '', '--interface', LOOPBACK], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^portent-capture: permission-denied: /);
  });
});

const allowed = captureAllowed();
describe.skipIf(helper === null || !allowed.ok)(`capture through the helper on ${LOOPBACK} (${allowed.reason || 'privileged'})`, () => {
  let server: dgram.Socket;
  let port: number;

  beforeAll(async () => {
    server = dgram.createSocket('udp4');
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    port = server.address().port;
  });
  afterAll(() => server?.close());

  async function send(count: number, from: dgram.Socket): Promise<void> {
    for (let i = 0; i < count; i++) await new Promise<void>((r, j) => from.send(`datagram ${i}`, port, '127.0.0.1', (e) => (e ? j(e) : r())));
  }

  it('delivers every datagram the test sent, decoded in this process, and the kernel counters', async () => {
    const packets: DecodedPacket[] = [];
    const failures: string[] = [];
    const capture: LiveCapture = await openHelperCapture(helper ?? '', {
      iface: LOOPBACK,
      filter: `udp and dst port ${port}`,
      onBatch: (b) => packets.push(...b.packets),
      onFailure: (m) => failures.push(m),
    });
    expect(capture.linkType).toBe(1);
    const client = dgram.createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    const clientPort = client.address().port;
    await send(50, client);
    // Everything sent before stop() arrives by the time it resolves (the helper copies what is
    // left in the kernel when its stdin closes).
    await sleep(100);
    await capture.stop();
    client.close();
    expect(failures).toEqual([]);
    expect(packets).toHaveLength(50);
    for (const p of packets) expect(p).toMatchObject({ proto: 'udp', srcAddr: '127.0.0.1', dstAddr: '127.0.0.1', srcPort: clientPort, dstPort: port });
    expect(packets.map((p) => p.length).sort((a, b) => a - b)[0]).toBe(14 + 20 + 8 + 'datagram 0'.length);
    const counters = capture.counters();
    expect(counters).toMatchObject({ seen: 50, decoded: 50, malformed: 0 });
    // The last stats record came with the helper's exit; on lo each packet is seen twice (out and in).
    expect(counters.kernelDrops).toBe(0);
    expect(capture.pcapStats()?.ps_recv).toBeGreaterThanOrEqual(50);
  });

  it('says what failed: no such interface (with the real ones), a bad filter, no helper, a helper this user may not run', async () => {
    const open = (iface: string, filter = '', file = helper ?? '') => openHelperCapture(file, { iface, filter, onBatch: () => undefined, onFailure: () => undefined });
    const kind = async (p: Promise<unknown>) => {
      try {
        await p;
        return 'opened';
      } catch (e) {
        expect(e).toBeInstanceOf(CaptureError);
        return `${(e as CaptureError).kind}: ${(e as CaptureError).summary}`;
      }
    };
    expect(await kind(open('no-such-if0'))).toMatch(new RegExp(`^no-such-interface: packet capture is off: unknown interface "no-such-if0"; available: .*\\b${LOOPBACK}\\b`));
    expect(await kind(open(LOOPBACK, 'udp and (('))).toMatch(/^bad-filter: packet capture is off: invalid capture filter "udp and \(\(" \(can't parse filter expression/);
    const dir = tempDir();
    expect(await kind(open(LOOPBACK, '', path.join(dir, 'portent-capture')))).toMatch(/^binding-unavailable: packet capture is off: the capture helper .* does not exist/);
    const notMine = path.join(dir, 'portent-capture');
    fs.copyFileSync(helper ?? '', notMine);
    fs.chmodSync(notMine, 0o640);
    expect(await kind(open(LOOPBACK, '', notMine))).toMatch(/^permission-denied: packet capture is off: permission denied on lo \(permission denied: this user may not run /);
  });

  it('reports a helper that dies while capturing, with the reason, so the capture is started again', async () => {
    const failures: string[] = [];
    const capture = await openHelperCapture(helper ?? '', { iface: LOOPBACK, filter: `udp and dst port ${port}`, onBatch: () => undefined, onFailure: (m) => failures.push(m) });
    const pid = (capture as unknown as { source: { pid: number } }).source.pid;
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]).toBe(helper);
    process.kill(pid, 'SIGKILL');
    const end = Date.now() + 5000;
    while (failures.length === 0 && Date.now() < end) await sleep(20);
    expect(failures).toEqual(['the capture helper exited (SIGKILL)']);
    await capture.stop();
  });
});
