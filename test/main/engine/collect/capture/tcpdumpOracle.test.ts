/**
 * The same real traffic seen four ways: Portent's live captures on `any` (Linux cooked v1
 * headers) and on `lo` (Ethernet), and tcpdump's files of `lo` and of `any` as cooked v2, which
 * also carry the kernel's timestamps and wire lengths. Each packet must decode to the same facts
 * whatever the byte layout. tcpdump's `lo` file is the reference; its `any` file sometimes
 * lacks a few TCP packets (libpcap 1.10.3, more often under load), so that one must be a
 * subset that holds at least the DNS exchange and a handshake.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePacket, type DecodedPacket } from '../../../../../src/main/engine/collect/capture/decode';
import { LinkType } from '../../../../../src/main/engine/collect/capture/linkType';
import { openLiveCapture } from '../../../../../src/main/engine/collect/capture/liveCapture';
import { readPcap } from './support/pcapFile';
import { captureAllowed } from './support/privilege';
import { echoOnce, listenTcpEcho, queryUdp, startDnsServer, type DnsServer } from './support/servers';

function whyNot(): string | null {
  if (process.platform !== 'linux') return 'the any device and cooked headers are Linux-only';
  const allowed = captureAllowed();
  if (!allowed.ok) return allowed.reason;
  try {
    execFileSync('tcpdump', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'tcpdump is not installed';
  }
  return null;
}
const reason = whyNot();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts tcpdump writing to `file` and resolves once it is listening. */
function startTcpdump(args: string[]): Promise<ChildProcess> {
  // Immediate mode, or packets still in a half-filled ring block are lost when tcpdump is stopped.
  const child = spawn('tcpdump', ['--immediate-mode', '-U', '-n', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`tcpdump exited ${code}: ${err}`)));
  });
}

function stopTcpdump(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });
}

const LINK_HEADER: Record<number, number> = { [LinkType.EN10MB]: 14, [LinkType.LINUX_SLL]: 16, [LinkType.LINUX_SLL2]: 20 };

/** The facts that must not depend on how the frame was captured. */
function facts(p: DecodedPacket, dlt: number) {
  return {
    protocols: p.protocols.slice(p.protocols.indexOf(':') + 1),
    ip: p.srcAddr + ' > ' + p.dstAddr,
    ports: `${p.srcPort} > ${p.dstPort}`,
    tcpFlags: p.tcpFlags,
    icmp: p.icmpType,
    ipBytes: p.length - LINK_HEADER[dlt]!,
    dns: p.dns,
  };
}

const FLUSH_NAME = 'flush.portent.test';
const isFlush = (p: DecodedPacket) => p.dns?.queries[0] === FLUSH_NAME;

/** Exact comparison that ignores order: tcpdump's files are not always in arrival order across flows. */
const sorted = <T>(xs: T[]) => xs.map((x) => JSON.stringify(x)).sort();

function decodeFile(file: string): { dlt: number; packets: DecodedPacket[] } {
  const pcap = readPcap(file);
  return {
    dlt: pcap.linkType,
    packets: pcap.records.map((r) => {
      const d = decodePacket(r.data, pcap.linkType, r.caplen, r.wireLen, r.tsMs);
      if (d.kind !== 'packet') throw new Error(`${file}: ${d.reason}`);
      return d;
    }),
  };
}

describe.skipIf(reason !== null)(`decoding agrees with tcpdump on real traffic (${reason ?? 'lo and any'})`, () => {
  let dir: string;
  let echo: net.Server;
  let dns: DnsServer;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'portent-oracle-'));
    echo = await listenTcpEcho('::1');
    dns = await startDnsServer(['127.0.0.1', '127.0.0.153'], new Map([['oracle.portent.test', '192.0.2.99']]));
  });

  afterAll(async () => {
    echo?.close();
    await dns?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('cooked v1 and Ethernet (live), cooked v2 and Ethernet (tcpdump files) give the same packets', async () => {
    const echoPort = (echo.address() as net.AddressInfo).port;
    const client = dgram.createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
    // Test files run in parallel on the same loopback: match this test's own sockets only.
    const filter = `(tcp port ${echoPort}) or (udp port 53 and udp port ${client.address().port})`;
    const anyFile = path.join(dir, 'any-sll2.pcap');
    const loFile = path.join(dir, 'lo.pcap');
    const dumps = [await startTcpdump(['-i', 'any', '-y', 'LINUX_SLL2', '-w', anyFile, filter]), await startTcpdump(['-i', 'lo', '-w', loFile, filter])];
    const liveAny: DecodedPacket[] = [];
    const liveLo: DecodedPacket[] = [];
    const caps = [
      openLiveCapture({ iface: 'any', filter, flushIntervalMs: 20, onBatch: (b) => liveAny.push(...b.packets) }),
      openLiveCapture({ iface: 'lo', filter, flushIntervalMs: 20, onBatch: (b) => liveLo.push(...b.packets) }),
    ];
    expect(caps.map((c) => c.linkType)).toEqual([LinkType.LINUX_SLL, LinkType.EN10MB]);

    await queryUdp(client, dns.host, 1, 'oracle.portent.test');
    await queryUdp(client, dns.host, 2, 'missing.portent.test');
    await echoOnce(echoPort, '::1', 'over IPv6 loopback');
    await sleep(200);
    for (const c of caps) c.stop();
    // tcpdump can hold its last packets in a ring block until more arrive: push some through
    // (our stopped captures do not see them) until the files hold everything we saw.
    const seenByTcpdump = (f: string) => decodeFile(f).packets.filter((p) => !isFlush(p)).length;
    for (let i = 0; i < 10 && seenByTcpdump(loFile) < liveAny.length; i++) {
      await queryUdp(client, dns.host, 10 + i, FLUSH_NAME);
      await sleep(100);
    }
    client.close();
    for (const d of dumps) await stopTcpdump(d);

    const anyDump = decodeFile(anyFile);
    const loDump = decodeFile(loFile);
    anyDump.packets = anyDump.packets.filter((p) => !isFlush(p));
    loDump.packets = loDump.packets.filter((p) => !isFlush(p));
    expect(anyDump.dlt).toBe(LinkType.LINUX_SLL2);
    expect(loDump.dlt).toBe(LinkType.EN10MB);
    const reference = sorted(loDump.packets.map((p) => facts(p, LinkType.EN10MB)));
    // Four DNS datagrams and at least handshake + data + close of the IPv6 connection.
    expect(reference.length).toBeGreaterThanOrEqual(4 + 6);
    expect(sorted(liveAny.map((p) => facts(p, LinkType.LINUX_SLL)))).toEqual(reference);
    const remaining = [...reference];
    for (const f of sorted(anyDump.packets.map((p) => facts(p, LinkType.LINUX_SLL2)))) {
      expect(remaining, `cooked v2 packet not in the reference: ${f}`).toContain(f);
      remaining.splice(remaining.indexOf(f), 1);
    }
    expect(anyDump.packets.filter((p) => p.dns)).toHaveLength(4);
    expect(anyDump.packets.length).toBeGreaterThanOrEqual(4 + 3);
    // Our two live captures each see packets strictly in arrival order.
    expect(liveLo.map((p) => facts(p, LinkType.EN10MB))).toEqual(liveAny.map((p) => facts(p, LinkType.LINUX_SLL)));

    expect(liveAny.filter((p) => p.dns).map((p) => p.dns!.queries[0])).toEqual(['oracle.portent.test', 'oracle.portent.test', 'missing.portent.test', 'missing.portent.test']);
    expect(liveAny.filter((p) => p.dns?.isResponse).map((p) => p.dns!.answers)).toEqual([[{ name: 'oracle.portent.test', type: 'A', data: '192.0.2.99' }], []]);
    expect(liveAny.some((p) => p.protocols === 'sll:ipv6:tcp' && p.srcAddr === '::1')).toBe(true);
    // Patched cap hands over libpcap's timestamps: the kernel's, as tcpdump wrote them.
    const kernelTimes = loDump.packets.map((p) => p.ts).sort((a, b) => a - b);
    liveAny.forEach((p, i) => {
      expect(Math.abs(p.ts - kernelTimes[i]!)).toBeLessThan(1);
      if (i > 0) expect(p.ts).toBeGreaterThanOrEqual(liveAny[i - 1]!.ts);
    });
  });
});
