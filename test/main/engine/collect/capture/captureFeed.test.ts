import dgram from 'node:dgram';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureFeed } from '../../../../../src/main/engine/collect/capture/captureFeed';
import { builtCaptureHelper } from '../../../../../src/main/engine/collect/capture/captureHelper';
import type { Logger } from '../../../../../src/main/engine/log';
import { bundleChild, type ChildBundle } from './support/childBundle';
import { captureAllowed } from './support/privilege';

const LOOPBACK = process.platform === 'darwin' ? 'lo0' : 'lo';
const allowed = captureAllowed();
const helper = builtCaptureHelper();

/** The size in kB of each packet ring a process has mapped (its `socket:[...]` mappings in /proc). */
function ringSizesKb(pid: number): number[] {
  const smaps = fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n');
  const sizes: number[] = [];
  smaps.forEach((line, i) => {
    if (/ socket:\[\d+\]$/.test(line)) sizes.push(Number(/^Size:\s+(\d+) kB/.exec(smaps[i + 1] ?? '')?.[1]));
  });
  return sizes;
}

function childPids(pid: number): number[] {
  return fs
    .readdirSync(`/proc/${pid}/task`)
    .flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
}

function recordingLog(): Logger & { lines: { level: string; msg: string; fields?: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => lines.push({ level, msg, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('CaptureFeed', () => {
  let child: ChildBundle;

  beforeAll(async () => {
    child = await bundleChild('../../../../../../src/main/engine/collect/capture/captureChild.ts');
  });

  afterAll(() => child?.remove());

  it('when capture cannot start, every round gets the reason and the log says it once', async () => {
    const log = recordingLog();
    const feed = new CaptureFeed({ entry: child.script, iface: 'nosuch7', log });
    await feed.start();
    const rounds = [await feed.take(), await feed.take(), await feed.take()];
    for (const r of rounds) expect(r).toEqual({ state: 'off', iface: 'nosuch7', message: expect.stringMatching(/^packet capture is off: unknown interface "nosuch7"; available: /) });
    expect(feed.status).toMatchObject({ state: 'off', iface: 'nosuch7' });
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    await feed.stop();
  });

  it.skipIf(!allowed.ok)(`gives each round one report covering the time since the last (${allowed.reason || 'privileged'})`, async () => {
    const sink = dgram.createSocket('udp4');
    await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
    const port = sink.address().port;
    const feed = new CaptureFeed({ entry: child.script, iface: LOOPBACK, filter: `udp port ${port}`, log: recordingLog() });
    await feed.start();
    expect(feed.status).toEqual({ state: 'on', iface: LOOPBACK, message: null, remedy: [] });
    const send = async (n: number) => {
      const c = dgram.createSocket('udp4');
      for (let i = 0; i < n; i++) await new Promise<void>((r) => c.send('x', port, '127.0.0.1', () => r()));
      c.close();
      await new Promise((r) => setTimeout(r, 300));
    };
    await send(3);
    const first = await feed.take();
    await send(5);
    const second = await feed.take();
    await send(2);
    const last = await feed.stop();
    sink.close();
    if (first.state !== 'on' || second.state !== 'on' || last?.state !== 'on') throw new Error('capture was not on');
    expect(second.report.from).toBe(first.report.to);
    // The interval after the last take() comes back from stop().
    expect(last.report.from).toBe(second.report.to);
    expect([first.report.sample.seen, second.report.sample.seen, last.report.sample.seen]).toEqual([3, 5, 2]);
    expect([first.report.flows.flows[0]?.packets, second.report.flows.flows[0]?.packets, last.report.flows.flows[0]?.packets]).toEqual([3, 5, 2]);
    expect(last.report.counters.kernelDrops).toBe(0);
  });

  it.skipIf(!allowed.ok)('records a dead capture process as an error and starts a new one later', async () => {
    const log = recordingLog();
    let now = 0;
    const feed = new CaptureFeed({ entry: child.script, iface: LOOPBACK, filter: 'udp port 9', restartAfterMs: 1000, now: () => now, log });
    await feed.start();
    const first = feed.pid;
    process.kill(first!, 'SIGKILL');
    while (feed.status.state === 'on') await new Promise((r) => setTimeout(r, 20));
    expect(await feed.take()).toEqual({ state: 'error', iface: LOOPBACK, message: 'packet capture failed: capture process exited (SIGKILL)' });
    now = 1000;
    expect(await feed.take()).toMatchObject({ state: 'on', iface: LOOPBACK });
    expect(feed.pid).not.toBe(first);
    expect(log.lines.filter((l) => l.msg === 'packet capture on')).toHaveLength(2);
    await feed.stop();
  });

  it.skipIf(!allowed.ok || process.platform !== 'linux' || helper === null)(
    'with a capture helper, decodes in a thread of this process and the helper holds a ring of the size given (capture.bufferMb)',
    async () => {
      const sink = dgram.createSocket('udp4');
      await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
      const port = sink.address().port;
      const before = childPids(process.pid);
      const feed = new CaptureFeed({ entry: child.script, iface: LOOPBACK, filter: `udp port ${port}`, helper: helper!, bufferSize: 2 * 1024 * 1024, log: recordingLog() });
      await feed.start();
      expect(feed.status.state).toBe('on');
      // No capture process: the only new child is the helper, and this process maps no ring.
      expect(feed.pid).toBeUndefined();
      const started = childPids(process.pid).filter((p) => !before.includes(p));
      expect(started.map((p) => fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[0])).toEqual([helper]);
      expect(fs.readFileSync(`/proc/${started[0]}/cmdline`, 'utf8').split('\0')).toContain(String(2 * 1024 * 1024));
      expect(ringSizesKb(started[0]!)).toEqual([2048]);
      expect(ringSizesKb(process.pid)).toEqual([]);
      const c = dgram.createSocket('udp4');
      for (let i = 0; i < 4; i++) await new Promise<void>((r) => c.send('x', port, '127.0.0.1', () => r()));
      c.close();
      await new Promise((r) => setTimeout(r, 300));
      const round = await feed.take();
      const last = await feed.stop();
      sink.close();
      if (round.state !== 'on' || last?.state !== 'on') throw new Error('capture was not on');
      expect(round.report.sample.seen + last.report.sample.seen).toBe(4);
      // Stopping ends the helper too.
      expect(fs.existsSync(`/proc/${started[0]}`) && !fs.readFileSync(`/proc/${started[0]}/stat`, 'utf8').includes(') Z ')).toBe(false);
    },
  );

  it.skipIf(!allowed.ok || process.platform !== 'linux' || helper === null)('with a capture helper, a helper that dies is an error and capture starts again later, thread and all', async () => {
    const log = recordingLog();
    let now = 0;
    const helpers = () => childPids(process.pid).filter((p) => fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[0] === helper);
    const feed = new CaptureFeed({ entry: child.script, iface: LOOPBACK, filter: 'udp port 9', helper: helper!, restartAfterMs: 1000, now: () => now, log });
    await feed.start();
    const [first] = helpers();
    process.kill(first!, 'SIGKILL');
    while (feed.status.state === 'on') await new Promise((r) => setTimeout(r, 20));
    expect(await feed.take()).toEqual({ state: 'error', iface: LOOPBACK, message: 'packet capture failed: the capture helper exited (SIGKILL)' });
    now = 1000;
    expect(await feed.take()).toMatchObject({ state: 'on', iface: LOOPBACK });
    expect(helpers()).toHaveLength(1);
    expect(helpers()).not.toContain(first);
    expect(log.lines.filter((l) => l.msg === 'packet capture on')).toHaveLength(2);
    await feed.stop();
    expect(helpers()).toEqual([]);
  });
});
