import dgram from 'node:dgram';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureProcess, type CaptureProcessState } from '../../../../../src/main/engine/collect/capture/captureProcess';
import type { CaptureReport } from '../../../../../src/main/engine/collect/capture/captureSummary';
import { TCP } from './support/packets';
import { bundleChild, type ChildBundle } from './support/childBundle';
import { captureAllowed } from './support/privilege';
import { echoOnce, listenTcpEcho, queryUdp, startDnsServer, type DnsServer } from './support/servers';

const LOOPBACK = process.platform === 'darwin' ? 'lo0' : 'lo';
const allowed = captureAllowed();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('capture in a child process', () => {
  let child: ChildBundle;

  beforeAll(async () => {
    child = await bundleChild('../../../../../../src/main/engine/collect/capture/captureChild.ts');
  });

  afterAll(() => child?.remove());

  it('an unknown interface leaves capture off with the reason, and the child exits', async () => {
    const states: CaptureProcessState[] = [];
    const proc = new CaptureProcess({ entry: child.script, iface: 'nonexistent9', onReport: () => {}, onState: (s) => states.push(s) });
    const state = await proc.start();
    expect(state).toMatchObject({ state: 'off', kind: 'no-such-interface', iface: 'nonexistent9' });
    expect(state.state === 'off' && state.message).toMatch(/^packet capture is off: unknown interface "nonexistent9"; available: /);
    await proc.stop();
    expect(states.map((s) => s.state)).toEqual(['starting', 'off']);
  });

  describe.skipIf(!allowed.ok)(`on ${LOOPBACK} (${allowed.reason || 'privileged'})`, () => {
    let echo: net.Server;
    let dns: DnsServer;

    beforeAll(async () => {
      echo = await listenTcpEcho('127.0.0.1');
      dns = await startDnsServer(['127.0.0.1', '127.0.0.155'], new Map([['child.portent.test', '198.51.100.42']]));
    });

    afterAll(async () => {
      echo?.close();
      await dns?.close();
    });

    it('reports flows and DNS names of real traffic per interval, and a last report on stop', async () => {
      const echoPort = (echo.address() as net.AddressInfo).port;
      const client = dgram.createSocket('udp4');
      await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
      const reports: CaptureReport[] = [];
      const proc = new CaptureProcess({
        entry: child.script,
        iface: LOOPBACK,
        // Test files run in parallel on the same loopback: match this test's own sockets only.
        filter: `(tcp port ${echoPort}) or (udp port 53 and udp port ${client.address().port})`,
        reportIntervalMs: 150,
        onReport: (r) => reports.push(r),
      });
      expect(await proc.start()).toMatchObject({ state: 'running', iface: LOOPBACK, snaplen: 1536 });

      await queryUdp(client, dns.host, 1, 'child.portent.test');
      await queryUdp(client, dns.host, 2, 'nothing.portent.test');
      client.close();
      const port = await echoOnce(echoPort, '127.0.0.1', 'through the child');
      await sleep(400);
      const beforeStop = reports.length;
      await proc.stop();
      expect(proc.state.state).toBe('stopped');
      expect(beforeStop).toBeGreaterThanOrEqual(2);
      expect(reports.length).toBe(beforeStop + 1);

      for (let i = 1; i < reports.length; i++) expect(reports[i]!.from).toBe(reports[i - 1]!.to);
      const dnsEvents = reports.flatMap((r) => r.dns);
      expect(dnsEvents.map((e) => `${e.dns.isResponse ? 'R' : 'Q'} ${e.dns.queries[0]} ${e.dns.answers.map((a) => a.data).join(',')}`)).toEqual([
        'Q child.portent.test ',
        'R child.portent.test 198.51.100.42',
        'Q nothing.portent.test ',
        'R nothing.portent.test ',
      ]);
      const flows = reports.flatMap((r) => r.flows.flows);
      const out = flows.filter((f) => f.proto === 'tcp' && f.localPort === port && f.remotePort === echoPort);
      expect(out.reduce((s, f) => s | f.tcpFlags, 0) & (TCP.SYN | TCP.FIN)).toBe(TCP.SYN | TCP.FIN);
      const last = reports.at(-1)!;
      const counted = flows.reduce((s, f) => s + f.packets, 0) + reports.reduce((s, r) => s + r.flows.unattributed.packets + r.flows.overflow.packets, 0);
      expect(last.counters).toMatchObject({ seen: counted, decoded: counted, malformed: 0, kernelDrops: 0 });
      expect(reports.every((r) => Object.keys(r.malformed).length === 0)).toBe(true);
    });

    it('a capture process that dies is reported as failed, not left "running"', async () => {
      const states: CaptureProcessState[] = [];
      const proc = new CaptureProcess({ entry: child.script, iface: LOOPBACK, filter: 'udp port 9', onReport: () => {}, onState: (s) => states.push(s) });
      await proc.start();
      expect(proc.state.state).toBe('running');
      process.kill(proc.pid!, 'SIGKILL');
      const end = Date.now() + 5000;
      while (proc.state.state === 'running' && Date.now() < end) await sleep(20);
      expect(proc.state).toEqual({ state: 'failed', message: 'capture process exited (SIGKILL)' });
      expect(proc.pid).toBeUndefined();
    });
  });
});
