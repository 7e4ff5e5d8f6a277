import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { decodePacket, type DecodedPacket } from '../../../../../src/main/engine/collect/capture/decode';
import { FlowTable, isMulticastOrBroadcast, type Flow, type LocalAddresses } from '../../../../../src/main/engine/collect/capture/flows';
import { LinkType } from '../../../../../src/main/engine/collect/capture/linkType';
import { ipv4Broadcast, localAddressesFrom } from '../../../../../src/main/engine/collect/capture/localAddresses';
import { TCP, ethernet, icmp, ipv4, ipv6, tcp, udp } from './support/packets';
import { randomInt, seededRandom } from '../../../../../src/shared/random';

const ME = '10.0.0.2';
const ME6 = 'fd00::2';
const local: LocalAddresses = { addresses: new Set([ME, ME6, '127.0.0.1', '::1']), broadcasts: new Set(['10.0.0.255']) };

function pkt(frame: Buffer, ts: number): DecodedPacket {
  const r = decodePacket(frame, LinkType.EN10MB, frame.length, frame.length, ts);
  if (r.kind !== 'packet') throw new Error(r.reason);
  return r;
}

const tcp4 = (src: string, sport: number, dst: string, dport: number, flags: number, ts: number, data = 0) =>
  pkt(ethernet(0x0800, ipv4({ src, dst, proto: 6, payload: tcp({ sport, dport, flags, payload: Buffer.alloc(data) }) })), ts);
const udp4 = (src: string, sport: number, dst: string, dport: number, ts: number, data = 10) =>
  pkt(ethernet(0x0800, ipv4({ src, dst, proto: 17, payload: udp({ sport, dport, payload: Buffer.alloc(data) }) })), ts);

function byDirection(flows: Flow[], direction: Flow['direction']): Flow[] {
  return flows.filter((f) => f.direction === direction);
}

describe('FlowTable', () => {
  it('splits a TCP conversation into its outbound and inbound halves, exactly', () => {
    const t = new FlowTable(local);
    const conv = [
      tcp4(ME, 50000, '93.184.216.34', 443, TCP.SYN, 1000),
      tcp4('93.184.216.34', 443, ME, 50000, TCP.SYN | TCP.ACK, 1010),
      tcp4(ME, 50000, '93.184.216.34', 443, TCP.ACK, 1011),
      tcp4(ME, 50000, '93.184.216.34', 443, TCP.ACK | TCP.PSH, 1012, 300),
      tcp4('93.184.216.34', 443, ME, 50000, TCP.ACK | TCP.PSH, 1050, 1200),
      tcp4(ME, 50000, '93.184.216.34', 443, TCP.FIN | TCP.ACK, 1100),
    ];
    t.addAll(conv);
    const { flows } = t.drain();
    expect(flows).toHaveLength(2);
    const sum = (ps: DecodedPacket[]) => ps.reduce((s, p) => s + p.length, 0);
    expect(byDirection(flows, 'outbound')).toEqual([
      {
        proto: 'tcp', localAddr: ME, localPort: 50000, remoteAddr: '93.184.216.34', remotePort: 443, direction: 'outbound',
        packets: 4, bytes: sum(conv.filter((p) => p.srcAddr === ME)), firstTs: 1000, lastTs: 1100, tcpFlags: TCP.SYN | TCP.ACK | TCP.PSH | TCP.FIN,
      },
    ]);
    expect(byDirection(flows, 'inbound')).toEqual([
      {
        proto: 'tcp', localAddr: ME, localPort: 50000, remoteAddr: '93.184.216.34', remotePort: 443, direction: 'inbound',
        packets: 2, bytes: sum(conv.filter((p) => p.dstAddr === ME)), firstTs: 1010, lastTs: 1050, tcpFlags: TCP.SYN | TCP.ACK | TCP.PSH,
      },
    ]);
  });

  it('classifies local, multicast, broadcast and promiscuous (transit) traffic', () => {
    const t = new FlowTable(local);
    t.add(udp4('127.0.0.1', 40000, '127.0.0.1', 53, 1));
    t.add(udp4('10.0.0.9', 5353, '224.0.0.251', 5353, 2));
    t.add(udp4('10.0.0.9', 68, '10.0.0.255', 67, 3));
    t.add(udp4('10.0.0.9', 68, '255.255.255.255', 67, 4));
    t.add(udp4('10.0.0.7', 1234, '10.0.0.8', 80, 5));
    t.add(pkt(ethernet(0x86dd, ipv6({ src: 'fe80::9', dst: 'ff02::1', next: 58, payload: icmp(134, 0) })), 6));
    t.add(pkt(ethernet(0x86dd, ipv6({ src: ME6, dst: '2001:db8::1', next: 58, payload: icmp(128, 0) })), 7));
    const flows = t.drain().flows;
    const summary = flows.map((f) => `${f.direction} ${f.proto} ${f.localAddr}:${f.localPort} ${f.remoteAddr}:${f.remotePort}`).sort();
    expect(summary).toEqual([
      'inbound icmpv6 ff02::1:null fe80::9:null',
      'inbound udp 10.0.0.255:67 10.0.0.9:68',
      'inbound udp 224.0.0.251:5353 10.0.0.9:5353',
      'inbound udp 255.255.255.255:67 10.0.0.9:68',
      'local udp 127.0.0.1:40000 127.0.0.1:53',
      'outbound icmpv6 fd00::2:null 2001:db8::1:null',
      'transit udp 10.0.0.7:1234 10.0.0.8:80',
    ]);
  });

  it('counts frames without addresses apart, and follows address changes', () => {
    const t = new FlowTable({ addresses: new Set(['10.0.0.50']) });
    const lldp = pkt(ethernet(0x88cc, Buffer.alloc(60)), 1);
    t.add(lldp);
    t.add(udp4(ME, 1, '8.8.8.8', 53, 2));
    t.setLocalAddresses(local);
    t.add(udp4(ME, 1, '8.8.8.8', 53, 3));
    const snap = t.drain();
    expect(snap.unattributed).toEqual({ packets: 1, bytes: lldp.length });
    expect(snap.flows.map((f) => f.direction).sort()).toEqual(['outbound', 'transit']);
  });

  it('stops adding flows at maxFlows and tallies what it refused', () => {
    const t = new FlowTable(local, { maxFlows: 2 });
    const ps = [udp4(ME, 1, '1.1.1.1', 53, 1), udp4(ME, 2, '1.1.1.1', 53, 2), udp4(ME, 3, '1.1.1.1', 53, 3), udp4(ME, 1, '1.1.1.1', 53, 4)];
    t.addAll(ps);
    expect(t.size).toBe(2);
    const snap = t.drain();
    expect(snap.overflow).toEqual({ packets: 1, bytes: ps[2]!.length });
    expect(snap.flows.find((f) => f.localPort === 1)?.packets).toBe(2);
    expect(t.size).toBe(0);
    expect(t.drain()).toEqual({ flows: [], unattributed: { packets: 0, bytes: 0 }, overflow: { packets: 0, bytes: 0 } });
  });

  it('matches a naive group-by on 30,000 random packets', () => {
    const rand = seededRandom(7);
    const hosts = [ME, '127.0.0.1', '10.0.0.9', '198.51.100.1', '224.0.0.251', '10.0.0.255'];
    const packets: DecodedPacket[] = [];
    for (let i = 0; i < 30_000; i++) {
      const src = hosts[randomInt(rand, hosts.length)]!;
      const dst = hosts[randomInt(rand, hosts.length)]!;
      const sport = 1000 + randomInt(rand, 4);
      const dport = 1000 + randomInt(rand, 4);
      const ts = randomInt(rand, 1_000_000);
      packets.push(rand() < 0.5 ? udp4(src, sport, dst, dport, ts, randomInt(rand, 100)) : tcp4(src, sport, dst, dport, 1 << randomInt(rand, 8), ts, randomInt(rand, 100)));
    }
    const t = new FlowTable(local);
    t.addAll(packets);
    const got = new Map(t.drain().flows.map((f) => [`${f.proto} ${f.direction} ${f.localAddr}:${f.localPort} ${f.remoteAddr}:${f.remotePort}`, f]));

    // The reference: decide each packet's local side independently, then group by brute force.
    const want = new Map<string, { packets: number; bytes: number; firstTs: number; lastTs: number; tcpFlags: number }>();
    for (const p of packets) {
      const s = local.addresses.has(p.srcAddr!);
      const d = local.addresses.has(p.dstAddr!);
      const group = isMulticastOrBroadcast(p.dstAddr!) || local.broadcasts!.has(p.dstAddr!);
      const dir = s && d ? 'local' : s ? 'outbound' : d || group ? 'inbound' : 'transit';
      const key = dir === 'inbound' ? `${p.proto} ${dir} ${p.dstAddr}:${p.dstPort} ${p.srcAddr}:${p.srcPort}` : `${p.proto} ${dir} ${p.srcAddr}:${p.srcPort} ${p.dstAddr}:${p.dstPort}`;
      const w = want.get(key) ?? { packets: 0, bytes: 0, firstTs: Infinity, lastTs: -Infinity, tcpFlags: 0 };
      w.packets++;
      w.bytes += p.length;
      w.firstTs = Math.min(w.firstTs, p.ts);
      w.lastTs = Math.max(w.lastTs, p.ts);
      w.tcpFlags |= p.tcpFlags ?? 0;
      want.set(key, w);
    }
    expect(got.size).toBe(want.size);
    for (const [key, w] of want) expect(got.get(key), key).toMatchObject(w);
  });
});

describe('group addresses', () => {
  it('multicast and broadcast, and look-alikes that are not', () => {
    for (const a of ['224.0.0.251', '239.255.255.250', '255.255.255.255', 'ff02::1', 'ff05::1:3']) expect(isMulticastOrBroadcast(a), a).toBe(true);
    for (const a of ['223.255.255.255', '240.0.0.1', '10.0.0.255', 'ff::1', 'fe80::1', '2001:db8::ff']) expect(isMulticastOrBroadcast(a), a).toBe(false);
  });
});

describe('local addresses', () => {
  it('directed broadcast per subnet, none for /31 and /32', () => {
    expect(ipv4Broadcast('192.168.1.20', '255.255.255.0')).toBe('192.168.1.255');
    expect(ipv4Broadcast('10.1.2.3', '255.0.0.0')).toBe('10.255.255.255');
    expect(ipv4Broadcast('10.0.0.0', '255.255.255.254')).toBeNull();
    expect(ipv4Broadcast('10.0.0.1', '255.255.255.255')).toBeNull();
  });

  it("come from the machine's real interfaces", () => {
    const real = localAddressesFrom(os.networkInterfaces());
    const all = Object.values(os.networkInterfaces()).flatMap((i) => i ?? []);
    expect(all.length).toBeGreaterThan(0);
    for (const info of all) expect(real.addresses.has(info.address)).toBe(true);
    const lo = all.find((i) => i.address === '127.0.0.1');
    if (lo) expect(real.broadcasts?.has('127.255.255.255')).toBe(true);
  });
});
