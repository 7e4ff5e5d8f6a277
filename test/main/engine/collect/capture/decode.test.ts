import { describe, expect, it } from 'vitest';
import * as dnsPacket from 'dns-packet';
import { decodePacket, type DecodedPacket, type DecodeResult, type Malformed } from '../../../../../src/main/engine/collect/capture/decode';
import { LinkType, linkTypeFromCap } from '../../../../../src/main/engine/collect/capture/linkType';
import {
  TCP,
  arpRequest,
  bsdLoop,
  bsdNull,
  ethernet,
  icmp,
  ipv4,
  ipv6,
  ipv6FragmentHeader,
  ipv6OptionsHeader,
  sll,
  sll2,
  tcp,
  udp,
} from './support/packets';

const TS = 1_700_000_000_123.5;
const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

function decode(frame: Buffer, dlt: number = LinkType.EN10MB, caplen = frame.length, wireLen = frame.length): DecodeResult {
  return decodePacket(frame, dlt, caplen, wireLen, TS);
}

function packet(r: DecodeResult): DecodedPacket {
  if (r.kind !== 'packet') throw new Error(`expected a packet, got malformed: ${r.reason} at ${r.offset} (${r.protocols})`);
  return r;
}

function fault(r: DecodeResult): Malformed {
  if (r.kind !== 'malformed') throw new Error(`expected malformed, got ${r.protocols}`);
  return r;
}

const v4udp = (sport: number, dport: number, payload: Buffer = Buffer.from('hello')) =>
  ipv4({ src: '192.0.2.10', dst: '198.51.100.7', proto: 17, payload: udp({ sport, dport, payload }) });

describe('link layers', () => {
  it('Ethernet carrying IPv4/TCP: addresses, ports, flags, header length, wire length', () => {
    const mss = Buffer.from([2, 4, 0x05, 0xb4]);
    const frame = ethernet(ETH_IPV4, ipv4({ src: '10.1.2.3', dst: '93.184.216.34', proto: 6, payload: tcp({ sport: 51000, dport: 443, flags: TCP.SYN, options: mss }) }));
    const p = packet(decode(frame, LinkType.EN10MB, frame.length, frame.length));
    expect(p).toMatchObject({
      kind: 'packet',
      ts: TS,
      protocols: 'eth:ipv4:tcp',
      proto: 'tcp',
      srcAddr: '10.1.2.3',
      dstAddr: '93.184.216.34',
      srcPort: 51000,
      dstPort: 443,
      length: frame.length,
      truncated: false,
      fragment: false,
      tcpFlags: TCP.SYN,
      tcpHeaderLength: 24,
      icmpType: null,
      dns: null,
    });
  });

  it('802.1Q and 802.1ad (QinQ) VLAN tags are skipped and named', () => {
    const inner = v4udp(1111, 2222);
    expect(packet(decode(ethernet(ETH_IPV4, inner, [100]))).protocols).toBe('eth:vlan:ipv4:udp');
    const qinq = packet(decode(ethernet(ETH_IPV4, inner, [10, 20], 0x88a8)));
    expect(qinq.protocols).toBe('eth:vlan:vlan:ipv4:udp');
    expect(qinq.srcPort).toBe(1111);
  });

  it('refuses a frame that is nothing but VLAN tags', () => {
    const r = fault(decode(ethernet(ETH_IPV4, v4udp(1, 2), [1, 2, 3, 4, 5])));
    expect(r.reason).toBe('too-many-vlan-tags');
  });

  it('Linux cooked v1 (SLL) and v2 (SLL2)', () => {
    const v6 = ipv6({ src: 'fd00::2', dst: '2001:db8::1', next: 17, payload: udp({ sport: 5000, dport: 6000, payload: Buffer.alloc(3) }) });
    const a = packet(decode(sll(ETH_IPV6, v6), LinkType.LINUX_SLL));
    expect(a).toMatchObject({ protocols: 'sll:ipv6:udp', srcAddr: 'fd00::2', dstAddr: '2001:db8::1', srcPort: 5000, dstPort: 6000 });
    const b = packet(decode(sll2(ETH_IPV4, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 1, payload: icmp(8, 0) })), LinkType.LINUX_SLL2));
    expect(b).toMatchObject({ protocols: 'sll2:ipv4:icmp', icmpType: 8, icmpCode: 0, srcPort: null });
  });

  it('BSD loopback NULL in either host byte order, and OpenBSD LOOP in network order', () => {
    const v4 = v4udp(10, 20);
    const v6 = ipv6({ src: '::1', dst: '::1', next: 6, payload: tcp({ sport: 1, dport: 2, flags: TCP.RST }) });
    expect(packet(decode(bsdNull(2, v4, true), LinkType.NULL)).protocols).toBe('null:ipv4:udp');
    expect(packet(decode(bsdNull(2, v4, false), LinkType.NULL)).protocols).toBe('null:ipv4:udp');
    // AF_INET6 is 30 on macOS, 28 on FreeBSD, 24 on NetBSD/OpenBSD.
    for (const af of [30, 28, 24]) expect(packet(decode(bsdNull(af, v6, true), LinkType.NULL)).protocols).toBe('null:ipv6:tcp');
    expect(packet(decode(bsdNull(30, v6, false), LinkType.NULL)).tcpFlags).toBe(TCP.RST);
    expect(packet(decode(bsdLoop(2, v4), LinkType.LOOP)).protocols).toBe('loop:ipv4:udp');
    expect(packet(decode(bsdLoop(24, v6), LinkType.LOOP)).protocols).toBe('loop:ipv6:tcp');
    const other = packet(decode(bsdNull(99, v4), LinkType.NULL));
    expect(other).toMatchObject({ protocols: 'null:af-99', proto: null, srcAddr: null });
  });

  it('raw IP (DLT 12 and LINKTYPE 101) chooses the version from the first nibble', () => {
    expect(packet(decode(v4udp(7, 9), LinkType.RAW)).protocols).toBe('raw:ipv4:udp');
    const v6 = ipv6({ src: 'fe80::1', dst: 'ff02::1', next: 58, payload: icmp(134, 0) });
    expect(packet(decode(v6, LinkType.LINKTYPE_RAW))).toMatchObject({ protocols: 'raw:ipv6:icmpv6', icmpType: 134, dstAddr: 'ff02::1' });
    const bad = Buffer.from(v6);
    bad[0] = 0x50;
    expect(fault(decode(bad, LinkType.RAW)).reason).toBe('bad-ip-version');
  });

  it('an unsupported link type is malformed, not a guess', () => {
    expect(fault(decode(v4udp(1, 2), LinkType.IEEE802_11_RADIO)).reason).toBe('unsupported-link-type');
  });

  it('maps the names cap reports back to link-type numbers', () => {
    expect(linkTypeFromCap('ETHERNET')).toBe(1);
    expect(linkTypeFromCap('NULL')).toBe(0);
    expect(linkTypeFromCap('LINKTYPE_LINUX_SLL')).toBe(113);
    expect(linkTypeFromCap('RAW')).toBe(12);
    expect(linkTypeFromCap('Unknown linktype 276')).toBe(276);
    expect(linkTypeFromCap('Unknown linktype 108')).toBe(108);
    expect(linkTypeFromCap('something else')).toBeNull();
  });

  it('ARP is classified with its IPv4 addresses; other EtherTypes and LLC frames are named only', () => {
    const arp = packet(decode(ethernet(0x0806, arpRequest('192.168.1.20', '192.168.1.1'))));
    expect(arp).toMatchObject({ protocols: 'eth:arp', proto: 'arp', srcAddr: '192.168.1.20', dstAddr: '192.168.1.1', srcPort: null });
    expect(packet(decode(ethernet(0x88cc, Buffer.alloc(40))))).toMatchObject({ protocols: 'eth:lldp', proto: null, srcAddr: null });
    expect(packet(decode(ethernet(0x1234, Buffer.alloc(40)))).protocols).toBe('eth:0x1234');
    // A length field (<= 1500) instead of an EtherType: 802.3 + LLC, e.g. spanning tree.
    expect(packet(decode(ethernet(38, Buffer.alloc(46)))).protocols).toBe('eth:llc');
  });
});

describe('IPv4', () => {
  it('skips header options to find the transport header', () => {
    const withOptions = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, options: Buffer.from([0x94, 0x04, 0, 0]), payload: udp({ sport: 4321, dport: 1234, payload: Buffer.alloc(8) }) });
    expect(packet(decode(ethernet(ETH_IPV4, withOptions)))).toMatchObject({ srcPort: 4321, dstPort: 1234 });
  });

  it('only the first fragment carries ports', () => {
    const first = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, moreFragments: true, payload: udp({ sport: 5000, dport: 5001, payload: Buffer.alloc(64), length: 8 + 3000 }) });
    expect(packet(decode(ethernet(ETH_IPV4, first)))).toMatchObject({ fragment: true, srcPort: 5000, dstPort: 5001, proto: 'udp' });
    const later = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, fragmentOffset: 185, payload: Buffer.alloc(64, 0xee) });
    expect(packet(decode(ethernet(ETH_IPV4, later)))).toMatchObject({ protocols: 'eth:ipv4:udp', fragment: true, srcPort: null, dstPort: null, proto: 'udp' });
  });

  it('names other IP protocols', () => {
    const gre = packet(decode(ethernet(ETH_IPV4, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 47, payload: Buffer.alloc(8) }))));
    expect(gre).toMatchObject({ protocols: 'eth:ipv4:gre', proto: 'gre' });
    expect(packet(decode(ethernet(ETH_IPV4, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 253, payload: Buffer.alloc(8) })))).proto).toBe('ip-253');
  });

  it('counts Ethernet padding in the wire length but never reads it as payload', () => {
    const small = ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 17, payload: udp({ sport: 40000, dport: 53, payload: Buffer.alloc(0) }) });
    const frame = Buffer.concat([ethernet(ETH_IPV4, small), Buffer.alloc(60 - 14 - small.length, 0x41)]);
    const p = packet(decode(frame));
    expect(p.length).toBe(60);
    expect(p.dns).toBeNull();
  });

  it('a zero total length (offloaded super-packet) is measured by the frame', () => {
    const frame = ethernet(ETH_IPV4, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, totalLength: 0, payload: tcp({ sport: 22, dport: 50000, flags: TCP.ACK | TCP.PSH, payload: Buffer.alloc(3000) }) }));
    expect(packet(decode(frame))).toMatchObject({ srcPort: 22, tcpFlags: TCP.ACK | TCP.PSH, length: frame.length });
  });

  it('infers the wire length from the IP header when the capture does not give it', () => {
    const frame = ethernet(ETH_IPV4, v4udp(1000, 2000, Buffer.alloc(1400)));
    const p = packet(decode(frame, LinkType.EN10MB, 200, 0));
    expect(p.length).toBe(frame.length);
    expect(p.truncated).toBe(true);
  });

  it('faults: short header, bad IHL, total length beyond the frame, cut before the header ends', () => {
    const good = ethernet(ETH_IPV4, v4udp(1, 2));
    expect(fault(decode(good, LinkType.EN10MB, 14 + 12, 14 + 12)).reason).toBe('truncated-ipv4');
    const badIhl = Buffer.from(good);
    badIhl[14] = 0x44;
    expect(fault(decode(badIhl)).reason).toBe('bad-ipv4-header-length');
    const liar = ethernet(ETH_IPV4, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 17, totalLength: 900, payload: udp({ sport: 1, dport: 2, payload: Buffer.alloc(4) }) }));
    expect(fault(decode(liar)).reason).toBe('bad-ipv4-total-length');
    const short = ethernet(ETH_IPV4, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 17, totalLength: 12, payload: Buffer.alloc(0) }));
    expect(fault(decode(short)).reason).toBe('bad-ipv4-total-length');
    expect(fault(decode(Buffer.alloc(10))).reason).toBe('truncated-link');
  });
});

describe('IPv6', () => {
  const src = '2001:db8:0:1::10';
  const dst = '2001:db8:0:2::20';

  it('skips hop-by-hop, routing, destination-options and AH headers', () => {
    const payload = tcp({ sport: 443, dport: 61000, flags: TCP.ACK | TCP.FIN });
    const ah = { type: 51, bytes: Buffer.concat([Buffer.from([0, 4, 0, 0]), Buffer.alloc(20)]) }; // (4 + 2) * 4 = 24 bytes
    const frame = ethernet(ETH_IPV6, ipv6({ src, dst, next: 6, payload, extensions: [ipv6OptionsHeader(0), ipv6OptionsHeader(43, 2), ah, ipv6OptionsHeader(60)] }));
    expect(packet(decode(frame))).toMatchObject({ protocols: 'eth:ipv6:tcp', srcAddr: src, dstAddr: dst, srcPort: 443, dstPort: 61000, tcpFlags: TCP.ACK | TCP.FIN });
  });

  it('fragment header: first fragment has ports, later ones do not', () => {
    const first = ethernet(ETH_IPV6, ipv6({ src, dst, next: 17, extensions: [ipv6FragmentHeader(0, true)], payload: udp({ sport: 7000, dport: 7001, payload: Buffer.alloc(100), length: 5000 }) }));
    expect(packet(decode(first))).toMatchObject({ fragment: true, srcPort: 7000, dstPort: 7001 });
    const later = ethernet(ETH_IPV6, ipv6({ src, dst, next: 17, extensions: [ipv6FragmentHeader(150, false)], payload: Buffer.alloc(100) }));
    expect(packet(decode(later))).toMatchObject({ fragment: true, srcPort: null, proto: 'udp' });
  });

  it('no-next-header and ESP stop the chain', () => {
    expect(packet(decode(ethernet(ETH_IPV6, ipv6({ src, dst, next: 59, payload: Buffer.alloc(0) })))).protocols).toBe('eth:ipv6:none');
    expect(packet(decode(ethernet(ETH_IPV6, ipv6({ src, dst, next: 50, payload: Buffer.alloc(32) }))))).toMatchObject({ protocols: 'eth:ipv6:esp', proto: 'esp' });
  });

  it('ICMPv6 type and code', () => {
    const ns = packet(decode(ethernet(ETH_IPV6, ipv6({ src: 'fe80::1', dst: 'ff02::1:ff00:2', next: 58, payload: icmp(135, 0, Buffer.alloc(20)) }))));
    expect(ns).toMatchObject({ protocols: 'eth:ipv6:icmpv6', proto: 'icmpv6', icmpType: 135, icmpCode: 0, dstAddr: 'ff02::1:ff00:2' });
  });

  it('faults: extension header running past the payload, payload length beyond the frame, short header', () => {
    const huge = ipv6OptionsHeader(0, 1);
    huge.bytes[1] = 200;
    expect(fault(decode(ethernet(ETH_IPV6, ipv6({ src, dst, next: 17, extensions: [huge], payload: udp({ sport: 1, dport: 2, payload: Buffer.alloc(0) }) })))).reason).toBe('bad-ipv6-extension');
    expect(fault(decode(ethernet(ETH_IPV6, ipv6({ src, dst, next: 17, payloadLength: 4000, payload: udp({ sport: 1, dport: 2, payload: Buffer.alloc(0) }) })))).reason).toBe('bad-ipv6-payload-length');
    const good = ethernet(ETH_IPV6, ipv6({ src, dst, next: 59, payload: Buffer.alloc(0) }));
    expect(fault(decode(good, LinkType.EN10MB, 30, 30)).reason).toBe('truncated-ipv6');
  });
});

describe('TCP, UDP and ICMP', () => {
  it('all TCP flags, including NS in bit 8', () => {
    const all = TCP.FIN | TCP.SYN | TCP.RST | TCP.PSH | TCP.ACK | TCP.URG | TCP.ECE | TCP.CWR;
    const frame = ethernet(ETH_IPV4, ipv4({ src: '10.0.0.1', dst: '10.0.0.2', proto: 6, payload: tcp({ sport: 1, dport: 2, flags: all, ns: true }) }));
    expect(packet(decode(frame)).tcpFlags).toBe(0x1ff);
  });

  it('faults: TCP data offset below 5 or past the datagram, TCP cut short, UDP length lies', () => {
    const seg = tcp({ sport: 1, dport: 2, flags: TCP.SYN });
    const low = Buffer.from(seg);
    low[12] = 0x40;
    expect(fault(decode(ethernet(ETH_IPV4, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6, payload: low })))).reason).toBe('bad-tcp-header-length');
    const high = Buffer.from(seg);
    high[12] = 0xf0;
    expect(fault(decode(ethernet(ETH_IPV4, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6, payload: high })))).reason).toBe('bad-tcp-header-length');
    const frame = ethernet(ETH_IPV4, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6, payload: seg }));
    expect(fault(decode(frame, LinkType.EN10MB, 14 + 20 + 10, 0)).reason).toBe('truncated-tcp');
    expect(fault(decode(ethernet(ETH_IPV4, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 17, payload: udp({ sport: 1, dport: 2, payload: Buffer.alloc(4), length: 4 }) })))).reason).toBe('bad-udp-length');
    expect(fault(decode(ethernet(ETH_IPV4, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 17, payload: udp({ sport: 1, dport: 2, payload: Buffer.alloc(4), length: 400 }) })))).reason).toBe('bad-udp-length');
    expect(fault(decode(ethernet(ETH_IPV4, ipv4({ src: '1.1.1.1', dst: '2.2.2.2', proto: 1, payload: Buffer.from([8]) })))).reason).toBe('truncated-icmp');
  });

  it('ICMP echo request', () => {
    expect(packet(decode(ethernet(ETH_IPV4, ipv4({ src: '10.0.0.1', dst: '10.0.0.9', proto: 1, payload: icmp(8, 0, Buffer.alloc(56)) }))))).toMatchObject({ icmpType: 8, icmpCode: 0, proto: 'icmp' });
    expect(packet(decode(ethernet(ETH_IPV4, ipv4({ src: '10.0.0.9', dst: '10.0.0.1', proto: 1, payload: icmp(3, 3, Buffer.alloc(32)) }))))).toMatchObject({ icmpType: 3, icmpCode: 3 });
  });
});

describe('DNS', () => {
  const query = dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'portent.example' }] });
  const response = dnsPacket.encode({
    type: 'response',
    id: 7,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: [{ type: 'A', name: 'www.portent.example' }],
    answers: [
      { type: 'CNAME', name: 'www.portent.example', ttl: 60, data: 'edge.cdn.example' },
      { type: 'A', name: 'edge.cdn.example', ttl: 60, data: '203.0.113.5' },
      { type: 'AAAA', name: 'edge.cdn.example', ttl: 60, data: '2001:db8::5' },
      { type: 'MX', name: 'edge.cdn.example', ttl: 60, data: { preference: 10, exchange: 'mx.example' } },
      { type: 'A', name: 'edge.cdn.example', ttl: 60, data: '203.0.113.6' },
    ],
  });

  it('a query over UDP/53', () => {
    const p = packet(decode(ethernet(ETH_IPV4, v4udp(53001, 53, query))));
    expect(p.protocols).toBe('eth:ipv4:udp:dns');
    expect(p.dns).toEqual({ isResponse: false, rcode: 'NOERROR', queries: ['portent.example'], answers: [], partial: false });
  });

  it('a response: CNAME chain and A/AAAA answers, other record types left out', () => {
    const p = packet(decode(ethernet(ETH_IPV6, ipv6({ src: '2001:db8::53', dst: 'fd00::2', next: 17, payload: udp({ sport: 53, dport: 53001, payload: response }) }))));
    expect(p.dns).toEqual({
      isResponse: true,
      rcode: 'NOERROR',
      queries: ['www.portent.example'],
      answers: [
        { name: 'www.portent.example', type: 'CNAME', data: 'edge.cdn.example' },
        { name: 'edge.cdn.example', type: 'A', data: '203.0.113.5' },
        { name: 'edge.cdn.example', type: 'AAAA', data: '2001:db8::5' },
        { name: 'edge.cdn.example', type: 'A', data: '203.0.113.6' },
      ],
      partial: false,
    });
  });

  it('follows name-compression pointers, as real servers write responses', () => {
    // Header, question "example.com A IN", answer whose name is a pointer to offset 12.
    const msg = Buffer.from([
      0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
      7, ...Buffer.from('example'), 3, ...Buffer.from('com'), 0, 0, 1, 0, 1,
      0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34,
    ]);
    const p = packet(decode(ethernet(ETH_IPV4, v4udp(53, 40000, msg))));
    expect(p.dns?.answers).toEqual([{ name: 'example.com', type: 'A', data: '93.184.216.34' }]);
  });

  it('NXDOMAIN and mDNS on 5353', () => {
    const nx = dnsPacket.encode({ type: 'response', id: 1, flags: 3, questions: [{ type: 'AAAA', name: 'nope.example' }] });
    expect(packet(decode(ethernet(ETH_IPV4, v4udp(53, 33333, nx)))).dns).toMatchObject({ rcode: 'NXDOMAIN', queries: ['nope.example'], isResponse: true });
    const mdns = dnsPacket.encode({ type: 'response', id: 0, flags: dnsPacket.AUTHORITATIVE_ANSWER, answers: [{ type: 'A', name: 'printer.local', ttl: 120, data: '192.168.1.50' }] });
    const p = packet(decode(ethernet(ETH_IPV4, ipv4({ src: '192.168.1.50', dst: '224.0.0.251', proto: 17, payload: udp({ sport: 5353, dport: 5353, payload: mdns }) }))));
    expect(p.dns?.answers).toEqual([{ name: 'printer.local', type: 'A', data: '192.168.1.50' }]);
  });

  it('DNS over TCP/53 when the whole length-prefixed message is in the segment, not otherwise', () => {
    const framed = dnsPacket.streamEncode({ type: 'query', id: 9, questions: [{ type: 'A', name: 'tcp.portent.example' }] });
    const whole = ethernet(ETH_IPV4, ipv4({ src: '10.0.0.2', dst: '10.0.0.53', proto: 6, payload: tcp({ sport: 45000, dport: 53, flags: TCP.ACK | TCP.PSH, payload: framed }) }));
    expect(packet(decode(whole))).toMatchObject({ protocols: 'eth:ipv4:tcp:dns', dns: { queries: ['tcp.portent.example'], partial: false } });
    const firstHalf = framed.subarray(0, 10);
    const part = ethernet(ETH_IPV4, ipv4({ src: '10.0.0.2', dst: '10.0.0.53', proto: 6, payload: tcp({ sport: 45000, dport: 53, flags: TCP.ACK, payload: firstHalf }) }));
    expect(packet(decode(part))).toMatchObject({ protocols: 'eth:ipv4:tcp', dns: null });
  });

  it('a response cut by the snaplen keeps its question and the answers that were captured', () => {
    const frame = ethernet(ETH_IPV4, v4udp(53, 40000, response));
    const dnsStart = 14 + 20 + 8;
    // Cut in the middle of the AAAA answer (the CNAME and first A are whole).
    const caplen = dnsStart + response.indexOf(Buffer.from([0x20, 0x01, 0x0d, 0xb8])) + 4;
    const p = packet(decode(frame, LinkType.EN10MB, caplen, frame.length));
    expect(p.truncated).toBe(true);
    expect(p.dns).toMatchObject({ partial: true, queries: ['www.portent.example'] });
    expect(p.dns?.answers.map((a) => a.type)).toEqual(['CNAME', 'A']);
  });

  it('something else on port 53 is not taken for DNS', () => {
    const junk = Buffer.alloc(40, 0xff);
    const p = packet(decode(ethernet(ETH_IPV4, v4udp(53, 1024, junk))));
    expect(p.dns).toBeNull();
    expect(p.protocols).toBe('eth:ipv4:udp');
  });
});
