import { describe, expect, it } from 'vitest';
import { CaptureSummary, type CaptureReport } from '../../../../../src/main/engine/collect/capture/captureSummary';
import type { DecodedPacket } from '../../../../../src/main/engine/collect/capture/decode';
import { mergeReports } from '../../../../../src/main/engine/collect/capture/mergeReports';
import { dnsQueryPacket, tcpPacket } from './support/frames';
import { TCP } from './support/packets';

const ME = '10.0.0.2';
const THEM = '10.0.0.9';
const counters = (seen: number) => ({ seen, decoded: seen, malformed: 0, truncated: 0, kernelDrops: null, batches: 0, callbackErrors: 0 });

describe('mergeReports (a late report folded into the next round)', () => {
  it('sums flows by key, keeps the interval contiguous, and bounds the sample with DNS and SYN first', () => {
    const s = new CaptureSummary({ addresses: new Set([ME]) }, 0, { maxPackets: 3 });
    const reports: CaptureReport[] = [];
    const batch = (packets: DecodedPacket[], to: number, seen: number) => {
      s.add({ packets, malformed: [] });
      reports.push(s.take(to, counters(seen)));
    };
    batch([tcpPacket({ src: ME, dst: THEM, sport: 5000, dport: 443, flags: TCP.ACK, ts: 1 }), tcpPacket({ src: ME, dst: THEM, sport: 5000, dport: 443, flags: TCP.ACK, ts: 2 })], 10, 2);
    batch(
      [
        tcpPacket({ src: ME, dst: THEM, sport: 5000, dport: 443, flags: TCP.FIN | TCP.ACK, ts: 11 }),
        tcpPacket({ src: ME, dst: THEM, sport: 5001, dport: 443, flags: TCP.SYN, ts: 12 }),
        dnsQueryPacket({ src: ME, dst: THEM, sport: 5002, name: 'late.example', ts: 13 }),
      ],
      20,
      5,
    );
    const m = mergeReports(reports, 3);
    expect(m).toMatchObject({ from: 0, to: 20, counters: { seen: 5 }, malformedCount: 0 });
    const main = m.flows.flows.find((f) => f.localPort === 5000);
    expect(main).toMatchObject({ packets: 3, firstTs: 1, lastTs: 11, tcpFlags: TCP.ACK | TCP.FIN });
    expect(m.flows.flows).toHaveLength(3);
    expect(m.sample.seen).toBe(5);
    expect(m.sample.packets.map((p) => p.ts)).toHaveLength(3);
    expect(m.sample.packets.map((p) => p.ts)).toEqual(expect.arrayContaining([12, 13]));
    expect(m.dns.map((e) => e.dns.queries[0])).toEqual(['late.example']);
  });

  it('gives each report the kernel drops of its own interval, and adds them up when merging', () => {
    const s = new CaptureSummary({ addresses: new Set([ME]) }, 0);
    const withDrops = (drops: number | null) => ({ ...counters(0), kernelDrops: drops });
    const reports = [s.take(10, withDrops(4)), s.take(20, withDrops(4)), s.take(30, withDrops(9))];
    expect(reports.map((r) => r.counters.kernelDrops)).toEqual([4, 0, 5]);
    expect(mergeReports(reports.slice(1), 10).counters.kernelDrops).toBe(5);
    expect(mergeReports(reports, 10).counters.kernelDrops).toBe(9);
    const unknown = new CaptureSummary({ addresses: new Set([ME]) }, 0);
    expect(mergeReports([unknown.take(1, withDrops(null)), unknown.take(2, withDrops(null))], 10).counters.kernelDrops).toBeNull();
  });

  it('returns a single report as it is', () => {
    const s = new CaptureSummary({ addresses: new Set([ME]) }, 0);
    const r = s.take(5, counters(0));
    expect(mergeReports([r], 10)).toBe(r);
  });
});
