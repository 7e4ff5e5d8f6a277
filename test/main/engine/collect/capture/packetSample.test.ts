import { describe, expect, it } from 'vitest';
import { CaptureSummary } from '../../../../../src/main/engine/collect/capture/captureSummary';
import { PacketSampler } from '../../../../../src/main/engine/collect/capture/packetSample';
import { dnsAnswerPacket, dnsFailurePacket, dnsQueryPacket, tcpPacket, udpPacket } from './support/frames';
import { TCP } from './support/packets';
import { seededRandom as seeded } from '../../../../../src/shared/random';

const ME = '10.0.0.2';
const THEM = '10.0.0.9';

describe('PacketSampler', () => {
  it('keeps everything, in time order and without payload, while under the bound', () => {
    const s = new PacketSampler(10);
    s.add(udpPacket({ src: ME, dst: THEM, sport: 5000, dport: 6000, ts: 3, payload: Buffer.from('secret payload') }));
    s.add(dnsQueryPacket({ src: ME, dst: THEM, sport: 5001, name: 'a.example', ts: 1 }));
    s.add(dnsAnswerPacket({ src: THEM, dst: ME, dport: 5001, name: 'a.example', address: '192.0.2.7', ts: 2 }));
    const r = s.take();
    expect(r).toMatchObject({ seen: 3, dns: 2, dnsDropped: 0 });
    expect(r.packets.map((p) => p.ts)).toEqual([1, 2, 3]);
    expect(r.packets[1]).toMatchObject({ srcAddr: THEM, srcPort: 53, dstAddr: ME, dstPort: 5001, dnsQuery: 'a.example', dnsAnswer: '192.0.2.7', protocols: 'eth:ipv4:udp:dns' });
    expect(JSON.stringify(r.packets)).not.toMatch(/secret/);
    expect(s.take()).toEqual({ packets: [], seen: 0, dns: 0, dnsDropped: 0 });
  });

  it("keeps a DNS response's code, so a failed lookup is told from an answered one", () => {
    const s = new PacketSampler(10);
    s.add(dnsQueryPacket({ src: ME, dst: THEM, sport: 5001, name: 'nope.example', ts: 1 }));
    s.add(dnsFailurePacket({ src: THEM, dst: ME, dport: 5001, name: 'nope.example', ts: 2 }));
    s.add(dnsAnswerPacket({ src: THEM, dst: ME, dport: 5002, name: 'a.example', address: '192.0.2.7', ts: 3 }));
    s.add(udpPacket({ src: ME, dst: THEM, sport: 5000, dport: 6000, ts: 4 }));
    expect(s.take().packets.map((p) => [p.dnsQuery, p.dnsRcode])).toEqual([
      ['nope.example', null],
      ['nope.example', 'NXDOMAIN'],
      ['a.example', 'NOERROR'],
      [null, null],
    ]);
  });

  it('under a flood keeps every DNS message and SYN first, then a uniform sample of the rest', () => {
    const s = new PacketSampler(100, seeded(42));
    let ts = 0;
    for (let i = 0; i < 20; i++) s.add(dnsQueryPacket({ src: ME, dst: THEM, sport: 40000 + i, name: `n${i}.example`, ts: ts++ }));
    for (let i = 0; i < 30; i++) s.add(tcpPacket({ src: ME, dst: THEM, sport: 30000 + i, dport: 443, flags: TCP.SYN, ts: ts++ }));
    // SYN-ACKs and data are not openings.
    for (let i = 0; i < 10_000; i++) s.add(tcpPacket({ src: THEM, dst: ME, sport: 443, dport: 30000 + (i % 30), flags: i % 2 ? TCP.ACK : TCP.SYN | TCP.ACK, ts: ts++ }));
    const r = s.take();
    expect(r.seen).toBe(10_050);
    expect(r.packets).toHaveLength(100);
    expect(r.packets.filter((p) => p.dnsQuery !== null)).toHaveLength(20);
    expect(r.packets.filter((p) => p.tcpFlags === TCP.SYN)).toHaveLength(30);
    expect(r.dnsDropped).toBe(0);
    // The 50 others are spread over the whole flood, not its first 50 packets.
    const others = r.packets.filter((p) => p.tcpFlags !== TCP.SYN && p.dnsQuery === null).map((p) => p.ts);
    expect(others).toHaveLength(50);
    expect(Math.max(...others)).toBeGreaterThan(5_000);
    expect(Math.min(...others)).toBeLessThan(5_000);
  });

  it('samples the priority packets themselves when they alone exceed the bound, and counts lost DNS', () => {
    const s = new PacketSampler(10, seeded(7));
    for (let i = 0; i < 1000; i++) s.add(dnsQueryPacket({ src: ME, dst: THEM, sport: 40000, name: `n${i}.example`, ts: i }));
    const r = s.take();
    expect(r.packets).toHaveLength(10);
    expect(r).toMatchObject({ dns: 1000, dnsDropped: 990 });
    expect(Math.max(...r.packets.map((p) => p.ts))).toBeGreaterThan(100);
  });
});

describe('CaptureSummary with a packet sample', () => {
  it('carries the sample and the interval counts in each report', () => {
    const s = new CaptureSummary({ addresses: new Set([ME]) }, 0, { maxPackets: 2 });
    s.add({ packets: [udpPacket({ src: ME, dst: THEM, sport: 1, dport: 2, ts: 1 }), udpPacket({ src: ME, dst: THEM, sport: 1, dport: 2, ts: 2 }), udpPacket({ src: ME, dst: THEM, sport: 1, dport: 2, ts: 3 })], malformed: [] });
    const r = s.take(10, { seen: 3, decoded: 3, malformed: 0, truncated: 0, kernelDrops: null, batches: 1, callbackErrors: 0 });
    expect(r.sample.seen).toBe(3);
    expect(r.sample.packets).toHaveLength(2);
    expect(r.malformedCount).toBe(0);
    expect(r.flows.flows[0]).toMatchObject({ packets: 3 });
  });
});
