import dgram from 'node:dgram';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureError } from '../../../../../src/main/engine/collect/capture/captureErrors';
import type { DecodedPacket } from '../../../../../src/main/engine/collect/capture/decode';
import { FlowTable } from '../../../../../src/main/engine/collect/capture/flows';
import { openLiveCapture, type LiveCapture, type PacketBatch } from '../../../../../src/main/engine/collect/capture/liveCapture';
import { currentLocalAddresses } from '../../../../../src/main/engine/collect/capture/localAddresses';
import { TCP } from './support/packets';
import { captureAllowed } from './support/privilege';
import { echoOnce, listenTcpEcho, queryTcp, queryUdp, startDnsServer, type DnsServer } from './support/servers';

const LOOPBACK = process.platform === 'darwin' ? 'lo0' : 'lo';
const allowed = captureAllowed();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `done()` holds (packets reach JavaScript within the 20 ms block timeout). */
async function until(done: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await sleep(20);
}

const NAMES = new Map([
  ['alpha.portent.test', '10.53.0.1'],
  ['beta.portent.test', '10.53.0.2'],
  ['gamma.portent.test', '10.53.0.3'],
  ['delta.portent.test', '10.53.0.4'],
]);
const UDP_NAMES = ['alpha.portent.test', 'beta.portent.test', 'gamma.portent.test', 'nxdomain.portent.test'];
const TCP_NAME = 'delta.portent.test';
const CONNECTIONS = 3;

describe.skipIf(!allowed.ok)(`live capture on ${LOOPBACK} (${allowed.reason || 'privileged'})`, () => {
  let echo: net.Server;
  let echoPort: number;
  let dns: DnsServer;

  beforeAll(async () => {
    echo = await listenTcpEcho('127.0.0.1');
    echoPort = (echo.address() as net.AddressInfo).port;
    dns = await startDnsServer(['127.0.0.1', '127.0.0.153', '127.0.0.154'], NAMES);
  });

  afterAll(async () => {
    echo?.close();
    await dns?.close();
  });

  it('sees every TCP connection and DNS exchange it made, with exact counts, flows and names', async () => {
    const client = dgram.createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    const clientPort = client.address().port;
    const batches: PacketBatch[] = [];
    const flows = new FlowTable(currentLocalAddresses());
    const cap = openLiveCapture({
      iface: LOOPBACK,
      // Test files run in parallel on the same loopback: match this test's own sockets only.
      filter: `(tcp port ${echoPort}) or (udp port 53 and udp port ${clientPort}) or (tcp port 53 and host ${dns.host})`,
      batchSize: 16,
      flushIntervalMs: 50,
      onBatch: (b) => {
        batches.push(b);
        flows.addAll(b.packets);
      },
    });
    expect(cap.running).toBe(true);

    const ports: number[] = [];
    for (let i = 0; i < CONNECTIONS; i++) ports.push(await echoOnce(echoPort, '127.0.0.1', `ping ${i} `.repeat(i + 1)));
    const replies = [];
    for (const [i, name] of UDP_NAMES.entries()) replies.push(await queryUdp(client, dns.host, 100 + i, name));
    const tcpDns = await queryTcp(dns.host, 200, TCP_NAME);
    client.close();

    const all = (): DecodedPacket[] => batches.flatMap((b) => b.packets);
    // Each TCP connection ends with the client's last ACK; the count of packets to port 53 over UDP is exact.
    await until(() => all().filter((p) => p.proto === 'udp').length >= 2 * UDP_NAMES.length && all().filter((p) => p.tcpFlags !== null && p.tcpFlags & TCP.FIN).length >= 2 * (CONNECTIONS + 1));
    await sleep(100);
    cap.stop();

    const packets = all();
    const counters = cap.counters();
    expect(counters).toMatchObject({ malformed: 0, kernelDrops: 0, callbackErrors: 0 });
    expect(counters.seen).toBe(packets.length);
    expect(counters.decoded).toBe(packets.length);
    expect(batches.flatMap((b) => b.malformed)).toEqual([]);
    expect(batches.every((b) => b.packets.length <= 16)).toBe(true);

    // DNS over UDP: one query and one response per name, nothing else.
    const udp = packets.filter((p) => p.proto === 'udp');
    expect(udp).toHaveLength(2 * UDP_NAMES.length);
    expect(udp.filter((p) => !p.dns?.isResponse).flatMap((p) => p.dns?.queries)).toEqual(UDP_NAMES);
    const answered = udp.filter((p) => p.dns?.isResponse);
    expect(answered.map((p) => p.dns?.rcode)).toEqual(['NOERROR', 'NOERROR', 'NOERROR', 'NXDOMAIN']);
    expect(answered.flatMap((p) => p.dns?.answers ?? [])).toEqual(
      replies.flatMap((r) => (r.answers ?? []).map((a) => ({ name: a.name, type: a.type, data: 'data' in a ? a.data : undefined }))),
    );
    expect(answered.flatMap((p) => p.dns!.answers.map((a) => `${a.name}=${a.data}`))).toEqual(['alpha.portent.test=10.53.0.1', 'beta.portent.test=10.53.0.2', 'gamma.portent.test=10.53.0.3']);
    for (const p of udp) expect(p.protocols).toMatch(/^(eth|null):ipv4:udp:dns$/);

    // DNS over TCP: the query and the answer, each whole in one segment.
    const tcpDnsPackets = packets.filter((p) => p.proto === 'tcp' && p.dns);
    expect(tcpDnsPackets.map((p) => [p.dns?.isResponse, p.dns?.queries])).toEqual([
      [false, [TCP_NAME]],
      [true, [TCP_NAME]],
    ]);
    expect(tcpDnsPackets[1]?.dns?.answers).toEqual([{ name: TCP_NAME, type: 'A', data: '10.53.0.4' }]);
    expect(tcpDns.reply.answers?.[0]).toMatchObject({ data: '10.53.0.4' });

    // TCP: one handshake per connection, from the ports the sockets really used.
    const syns = packets.filter((p) => p.tcpFlags === TCP.SYN);
    expect(syns.map((p) => p.srcPort).sort()).toEqual([...ports, tcpDns.localPort].sort());
    expect(packets.filter((p) => p.tcpFlags === (TCP.SYN | TCP.ACK))).toHaveLength(CONNECTIONS + 1);

    // Flows: both directions of every connection are 'local' (loopback), with exact totals.
    const snapshot = flows.drain();
    expect(snapshot.overflow.packets).toBe(0);
    for (const port of ports) {
      const out = snapshot.flows.find((f) => f.proto === 'tcp' && f.localPort === port && f.remotePort === echoPort);
      const back = snapshot.flows.find((f) => f.proto === 'tcp' && f.localPort === echoPort && f.remotePort === port);
      expect(out?.direction).toBe('local');
      expect(out!.tcpFlags & (TCP.SYN | TCP.FIN | TCP.ACK)).toBe(TCP.SYN | TCP.FIN | TCP.ACK);
      expect(back!.tcpFlags & TCP.SYN).toBe(TCP.SYN);
      const mine = packets.filter((p) => p.srcPort === port && p.dstPort === echoPort);
      expect(out).toMatchObject({ packets: mine.length, bytes: mine.reduce((s, p) => s + p.length, 0) });
    }
    const query = snapshot.flows.find((f) => f.proto === 'udp' && f.localPort === clientPort && f.remotePort === 53);
    const linkHeader = udp[0]!.protocols.startsWith('eth') ? 14 : 4;
    expect(query).toMatchObject({
      direction: 'local',
      packets: UDP_NAMES.length,
      // Wire bytes are exact: link header + IPv4 20 + UDP 8 + the DNS message we encoded.
      bytes: udp.filter((p) => p.srcPort === clientPort).reduce((s, p) => s + p.length, 0),
    });
    expect(udp.filter((p) => p.srcPort === clientPort).every((p) => p.length > linkHeader + 28 + 12)).toBe(true);
  });

  it('delivers nothing after stop(), and stop() is safe twice and from inside onBatch', async () => {
    const client = dgram.createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    const port = client.address().port;
    let delivered = 0;
    let cap: LiveCapture | undefined;
    cap = openLiveCapture({
      iface: LOOPBACK,
      filter: `udp and src port ${port}`,
      batchSize: 1,
      onBatch: (b) => {
        delivered += b.packets.length;
        cap?.stop();
      },
    });
    for (let i = 0; i < 5; i++) client.send('x', 9, '127.0.0.1');
    await until(() => delivered > 0);
    await sleep(100);
    expect(cap.running).toBe(false);
    expect(delivered).toBe(1);
    cap.stop();
    for (let i = 0; i < 5; i++) client.send('y', 9, '127.0.0.1');
    await sleep(150);
    expect(delivered).toBe(1);
    client.close();
    cap = undefined;
  });

  it('a throwing onBatch is counted and does not end the capture', async () => {
    const client = dgram.createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    const port = client.address().port;
    const errors: unknown[] = [];
    let calls = 0;
    const cap = openLiveCapture({
      iface: LOOPBACK,
      filter: `udp and src port ${port}`,
      batchSize: 1,
      onBatch: () => {
        calls++;
        throw new Error('consumer bug');
      },
      onCallbackError: (e) => errors.push(e),
    });
    for (let i = 0; i < 3; i++) client.send('z', 9, '127.0.0.1');
    await until(() => calls >= 3);
    cap.stop();
    client.close();
    expect(calls).toBe(3);
    expect(cap.counters()).toMatchObject({ seen: 3, callbackErrors: 3 });
    expect(errors.map((e) => (e as Error).message)).toEqual(['consumer bug', 'consumer bug', 'consumer bug']);
  });

  it('a bad BPF filter is a clear error naming the filter', () => {
    let err: unknown;
    try {
      openLiveCapture({ iface: LOOPBACK, filter: 'udp port 99999', onBatch: () => {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CaptureError);
    expect((err as CaptureError).kind).toBe('bad-filter');
    expect((err as Error).message).toMatch(/^packet capture is off: invalid capture filter "udp port 99999" \(.*99999.*\)$/);
    expect(() => openLiveCapture({ iface: LOOPBACK, filter: 'this is not bpf', onBatch: () => {} })).toThrow(/invalid capture filter "this is not bpf"/);
  });
});

describe('opening errors that need no privilege', () => {
  it('an unknown interface is refused before anything is opened, listing the real ones', () => {
    let err: unknown;
    try {
      openLiveCapture({ iface: 'nonexistent9', onBatch: () => {} });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CaptureError);
    expect((err as CaptureError).kind).toBe('no-such-interface');
    expect((err as Error).message).toMatch(new RegExp(`^packet capture is off: unknown interface "nonexistent9"; available: .*\\b${LOOPBACK}\\b`));
  });

  it('rejects a snaplen outside 64..65535', () => {
    expect(() => openLiveCapture({ iface: LOOPBACK, snaplen: 10, onBatch: () => {} })).toThrow(RangeError);
  });
});
