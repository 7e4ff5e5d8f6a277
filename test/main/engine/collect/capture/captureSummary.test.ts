import * as dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { CaptureSummary } from '../../../../../src/main/engine/collect/capture/captureSummary';
import { decodePacket, type DecodedPacket, type Malformed } from '../../../../../src/main/engine/collect/capture/decode';
import { LinkType } from '../../../../../src/main/engine/collect/capture/linkType';
import type { CaptureCounters } from '../../../../../src/main/engine/collect/capture/liveCapture';
import { ethernet, ipv4, udp } from './support/packets';

const counters: CaptureCounters = { seen: 0, decoded: 0, malformed: 0, truncated: 0, kernelDrops: null, batches: 0, callbackErrors: 0 };

function dnsQuery(name: string, ts: number): DecodedPacket {
  const msg = dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name }] });
  const frame = ethernet(0x0800, ipv4({ src: '10.0.0.2', dst: '10.0.0.1', proto: 17, payload: udp({ sport: 40000, dport: 53, payload: msg }) }));
  const r = decodePacket(frame, LinkType.EN10MB, frame.length, frame.length, ts);
  if (r.kind !== 'packet') throw new Error(r.reason);
  return r;
}

function cutFrame(): Malformed {
  const frame = ethernet(0x0800, Buffer.from([0x45, 0, 0, 40, 0, 0]));
  const r = decodePacket(frame, LinkType.EN10MB, frame.length, frame.length, 5);
  if (r.kind !== 'malformed') throw new Error('expected malformed');
  return r;
}

describe('CaptureSummary', () => {
  it('lists DNS messages up to a cap, tallies faults by reason, and starts each interval where the last ended', () => {
    const s = new CaptureSummary({ addresses: new Set(['10.0.0.2']) }, 1000, { maxDnsEvents: 2 });
    s.add({ packets: [dnsQuery('a.example', 1001), dnsQuery('b.example', 1002), dnsQuery('c.example', 1003)], malformed: [cutFrame(), cutFrame()] });
    const first = s.take(2000, counters);
    expect(first.from).toBe(1000);
    expect(first.to).toBe(2000);
    expect(first.dns.map((e) => e.dns.queries[0])).toEqual(['a.example', 'b.example']);
    expect(first.dns[0]).toMatchObject({ ts: 1001, proto: 'udp', srcAddr: '10.0.0.2', dstAddr: '10.0.0.1', srcPort: 40000, dstPort: 53 });
    expect(first.dnsOverflow).toBe(1);
    expect(first.malformed).toEqual({ 'truncated-ipv4': 2 });
    expect(first.flows.flows).toHaveLength(1);
    expect(first.flows.flows[0]).toMatchObject({ direction: 'outbound', packets: 3 });
    const second = s.take(3000, counters);
    expect(second).toMatchObject({ from: 2000, to: 3000, dns: [], dnsOverflow: 0, malformed: {} });
    expect(second.flows.flows).toEqual([]);
  });
});
