/**
 * Packet header decoder: link layer -> IPv4/IPv6/ARP -> TCP/UDP/ICMP -> DNS. It reads the
 * bytes in place, allocates only the result (and the DNS summary when there is one), and
 * never returns payload bytes: what leaves here is addresses, ports, flags and DNS names.
 * Bad or cut input comes back as a `Malformed` value with a reason; the decoder never throws.
 */
import { summarizeDns, type DnsSummary } from './dns';
import { formatIPv4, formatIPv6 } from './ipAddress';
import { LinkType } from './linkType';

export interface DecodedPacket {
  kind: 'packet';
  /** Capture time, ms since the epoch (fractional). */
  ts: number;
  /** Layers outermost first, e.g. 'eth:vlan:ipv4:udp:dns'. */
  protocols: string;
  /** What flows group by: 'tcp', 'udp', 'icmp', 'icmpv6', 'arp', another IP protocol's name, or null when the frame is not IP/ARP. */
  proto: string | null;
  srcAddr: string | null;
  dstAddr: string | null;
  srcPort: number | null;
  dstPort: number | null;
  /** Bytes on the wire (the frame length, not the captured length). */
  length: number;
  /** Fewer bytes were captured than were on the wire. */
  truncated: boolean;
  /** Part of a fragmented IP datagram; only the first fragment carries ports. */
  fragment: boolean;
  /** TCP flags with NS as bit 8: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80. */
  tcpFlags: number | null;
  tcpHeaderLength: number | null;
  icmpType: number | null;
  icmpCode: number | null;
  dns: DnsSummary | null;
}

export type MalformedReason =
  | 'bad-arguments'
  | 'unsupported-link-type'
  | 'truncated-link'
  | 'too-many-vlan-tags'
  | 'bad-ip-version'
  | 'truncated-ipv4'
  | 'bad-ipv4-header-length'
  | 'bad-ipv4-total-length'
  | 'truncated-ipv6'
  | 'bad-ipv6-payload-length'
  | 'truncated-ipv6-extension'
  | 'bad-ipv6-extension'
  | 'truncated-tcp'
  | 'bad-tcp-header-length'
  | 'truncated-udp'
  | 'bad-udp-length'
  | 'truncated-icmp'
  /** A bug in the decoder itself; the fuzz test makes sure it never happens. */
  | 'decoder-error';

export interface Malformed {
  kind: 'malformed';
  ts: number;
  reason: MalformedReason;
  /** The layers decoded before the fault, for counting faults per protocol. */
  protocols: string;
  length: number;
  /** Byte offset where decoding stopped. */
  offset: number;
}

export type DecodeResult = DecodedPacket | Malformed;

const ETH_HEADER = 14;
const SLL_HEADER = 16;
const SLL2_HEADER = 20;
const NULL_HEADER = 4;
const MAX_VLAN_TAGS = 4;
// Real stacks chain a handful of extension headers; a long chain is an attack or garbage.
const MAX_IPV6_EXTENSIONS = 12;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_ARP = 0x0806;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_NAMES: Record<number, string> = {
  0x8035: 'rarp',
  0x88cc: 'lldp',
  0x888e: 'eapol',
  0x8847: 'mpls',
  0x8848: 'mpls',
  0x8863: 'pppoed',
  0x8864: 'pppoes',
  0x88e5: 'macsec',
  0x88f7: 'ptp',
  0x893a: 'ieee1905',
};

const IP_TCP = 6;
const IP_UDP = 17;
const IP_ICMP = 1;
const IP_ICMPV6 = 58;
const IP_PROTO_NAMES: string[] = Array.from({ length: 256 }, (_, n) => `ip-${n}`);
Object.assign(IP_PROTO_NAMES, {
  1: 'icmp', 2: 'igmp', 4: 'ipip', 6: 'tcp', 17: 'udp', 41: 'ipv6', 47: 'gre', 50: 'esp', 51: 'ah',
  58: 'icmpv6', 59: 'none', 89: 'ospf', 103: 'pim', 112: 'vrrp', 132: 'sctp', 136: 'udplite',
});

// BSD loopback headers carry the sender's AF_ value: AF_INET is 2 everywhere, AF_INET6 is not.
const AF_INET = 2;
const AF_INET6 = new Set([10, 23, 24, 28, 30]);

const DNS_PORT = 53;
const MDNS_PORT = 5353;

/** Thrown internally (no stack captured) to unwind to decodePacket with the fault recorded. */
const FAULT = { fault: true };
let faultReason: MalformedReason = 'decoder-error';
let faultOffset = 0;

function fail(reason: MalformedReason, offset: number): never {
  faultReason = reason;
  faultOffset = offset;
  throw FAULT;
}

function need(off: number, n: number, capEnd: number, reason: MalformedReason): void {
  if (off + n > capEnd) fail(reason, off);
}

function u8(b: Uint8Array, o: number): number {
  return b[o] as number;
}

function u16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}

/**
 * Decodes one captured frame. `caplen` is how many bytes of `buf` are valid (the buffer may be
 * a larger reused one); `wireLen` is the frame's length on the wire, or 0 when the capture
 * source does not say, in which case it is inferred from the IP header.
 */
export function decodePacket(
  buf: Buffer | Uint8Array,
  linkType: number,
  caplen: number,
  wireLen: number,
  ts: number,
): DecodeResult {
  const p: DecodedPacket = {
    kind: 'packet',
    ts,
    protocols: '',
    proto: null,
    srcAddr: null,
    dstAddr: null,
    srcPort: null,
    dstPort: null,
    length: wireLen > 0 ? wireLen : caplen,
    truncated: false,
    fragment: false,
    tcpFlags: null,
    tcpHeaderLength: null,
    icmpType: null,
    icmpCode: null,
    dns: null,
  };
  if (!Number.isInteger(caplen) || caplen < 0 || caplen > buf.length || !(wireLen === 0 || wireLen >= caplen)) {
    return malformed(p, 'bad-arguments', 0);
  }
  try {
    decodeLink(buf, linkType, caplen, wireLen, p);
  } catch (e) {
    return malformed(p, e === FAULT ? faultReason : 'decoder-error', e === FAULT ? faultOffset : 0);
  }
  p.truncated = caplen < p.length;
  return p;
}

function malformed(p: DecodedPacket, reason: MalformedReason, offset: number): Malformed {
  return { kind: 'malformed', ts: p.ts, reason, protocols: p.protocols, length: p.length, offset };
}

function decodeLink(b: Uint8Array, dlt: number, cap: number, wire: number, p: DecodedPacket): void {
  switch (dlt) {
    case LinkType.EN10MB: {
      need(0, ETH_HEADER, cap, 'truncated-link');
      p.protocols = 'eth';
      let type = u16(b, 12);
      let off = ETH_HEADER;
      // 802.1Q, 802.1ad (QinQ) and the old pre-standard QinQ tag all add 4 bytes.
      for (let tags = 0; type === 0x8100 || type === 0x88a8 || type === 0x9100; tags++) {
        if (tags === MAX_VLAN_TAGS) fail('too-many-vlan-tags', off);
        need(off, 4, cap, 'truncated-link');
        p.protocols += ':vlan';
        type = u16(b, off + 2);
        off += 4;
      }
      return decodeEthertype(b, type, off, cap, wire, p);
    }
    case LinkType.LINUX_SLL:
      need(0, SLL_HEADER, cap, 'truncated-link');
      p.protocols = 'sll';
      return decodeEthertype(b, u16(b, 14), SLL_HEADER, cap, wire, p);
    case LinkType.LINUX_SLL2:
      need(0, SLL2_HEADER, cap, 'truncated-link');
      p.protocols = 'sll2';
      return decodeEthertype(b, u16(b, 0), SLL2_HEADER, cap, wire, p);
    case LinkType.NULL: {
      need(0, NULL_HEADER, cap, 'truncated-link');
      p.protocols = 'null';
      // Host byte order of the machine that captured: little-endian unless that makes it absurd.
      let family = (u8(b, 0) | (u8(b, 1) << 8) | (u8(b, 2) << 16) | (u8(b, 3) << 24)) >>> 0;
      if (family > 0xffff) family = ((u8(b, 0) << 24) | (u8(b, 1) << 16) | (u8(b, 2) << 8) | u8(b, 3)) >>> 0;
      return decodeAddressFamily(b, family, cap, wire, p);
    }
    case LinkType.LOOP: {
      need(0, NULL_HEADER, cap, 'truncated-link');
      p.protocols = 'loop';
      const family = ((u8(b, 0) << 24) | (u8(b, 1) << 16) | (u8(b, 2) << 8) | u8(b, 3)) >>> 0;
      return decodeAddressFamily(b, family, cap, wire, p);
    }
    case LinkType.RAW:
    case LinkType.LINKTYPE_RAW:
      p.protocols = 'raw';
      need(0, 1, cap, 'truncated-link');
      return decodeByVersion(b, 0, cap, wire, p);
    case LinkType.IPV4:
      p.protocols = 'raw';
      return decodeIPv4(b, 0, cap, wire, p);
    case LinkType.IPV6:
      p.protocols = 'raw';
      return decodeIPv6(b, 0, cap, wire, p);
    default:
      fail('unsupported-link-type', 0);
  }
}

function decodeAddressFamily(b: Uint8Array, family: number, cap: number, wire: number, p: DecodedPacket): void {
  if (family === AF_INET) return decodeIPv4(b, NULL_HEADER, cap, wire, p);
  if (AF_INET6.has(family)) return decodeIPv6(b, NULL_HEADER, cap, wire, p);
  p.protocols += `:af-${family}`;
}

function decodeByVersion(b: Uint8Array, off: number, cap: number, wire: number, p: DecodedPacket): void {
  const version = u8(b, off) >> 4;
  if (version === 4) return decodeIPv4(b, off, cap, wire, p);
  if (version === 6) return decodeIPv6(b, off, cap, wire, p);
  fail('bad-ip-version', off);
}

function decodeEthertype(b: Uint8Array, type: number, off: number, cap: number, wire: number, p: DecodedPacket): void {
  if (type === ETHERTYPE_IPV4) return decodeIPv4(b, off, cap, wire, p);
  if (type === ETHERTYPE_IPV6) return decodeIPv6(b, off, cap, wire, p);
  if (type === ETHERTYPE_ARP) return decodeArp(b, off, cap, p);
  // Values below 0x0600 are 802.3 lengths: an LLC frame (STP, CDP, ...), not an EtherType.
  if (type < 0x0600) p.protocols += ':llc';
  else p.protocols += `:${ETHERTYPE_NAMES[type] ?? `0x${type.toString(16).padStart(4, '0')}`}`;
}

function decodeArp(b: Uint8Array, off: number, cap: number, p: DecodedPacket): void {
  p.protocols += ':arp';
  p.proto = 'arp';
  if (off + 8 > cap) return;
  const hlen = u8(b, off + 4);
  const plen = u8(b, off + 5);
  // Only the addresses are of interest, and only when they are IPv4 ones.
  if (u16(b, off + 2) !== ETHERTYPE_IPV4 || plen !== 4 || off + 8 + 2 * hlen + 8 > cap) return;
  p.srcAddr = formatIPv4(b, off + 8 + hlen);
  p.dstAddr = formatIPv4(b, off + 8 + 2 * hlen + 4);
}

/** Where the IP datagram ends on the wire, checked against the frame when its length is known. */
function datagramEnd(off: number, declared: number, wire: number, p: DecodedPacket, reason: MalformedReason): number {
  if (wire > 0 && off + declared > wire) fail(reason, off);
  const end = off + declared;
  if (wire === 0 && end > p.length) p.length = end;
  return end;
}

function decodeIPv4(b: Uint8Array, off: number, cap: number, wire: number, p: DecodedPacket): void {
  p.protocols += ':ipv4';
  need(off, 20, cap, 'truncated-ipv4');
  const vihl = u8(b, off);
  if (vihl >> 4 !== 4) fail('bad-ip-version', off);
  const ihl = (vihl & 0x0f) * 4;
  if (ihl < 20) fail('bad-ipv4-header-length', off);
  need(off, ihl, cap, 'truncated-ipv4');
  const total = u16(b, off + 2);
  p.srcAddr = formatIPv4(b, off + 12);
  p.dstAddr = formatIPv4(b, off + 16);
  if (total !== 0 && total < ihl) fail('bad-ipv4-total-length', off);
  // A zero total length is what segmentation offload (and BIG TCP) leaves on oversized
  // packets seen on the way out; the frame length is then the only measure.
  const end = total === 0 ? (wire > 0 ? wire : cap) : datagramEnd(off, total, wire, p, 'bad-ipv4-total-length');
  const fragField = u16(b, off + 6);
  const moreFragments = (fragField & 0x2000) !== 0;
  const fragOffset = fragField & 0x1fff;
  p.fragment = moreFragments || fragOffset !== 0;
  const proto = u8(b, off + 9);
  if (fragOffset !== 0) {
    nameOnly(proto, p);
    return;
  }
  decodeTransport(b, proto, off + ihl, end, cap, moreFragments, p);
}

function decodeIPv6(b: Uint8Array, off: number, cap: number, wire: number, p: DecodedPacket): void {
  p.protocols += ':ipv6';
  need(off, 40, cap, 'truncated-ipv6');
  if (u8(b, off) >> 4 !== 6) fail('bad-ip-version', off);
  const payload = u16(b, off + 4);
  p.srcAddr = formatIPv6(b, off + 8);
  p.dstAddr = formatIPv6(b, off + 24);
  // Zero payload length means a jumbogram or an offloaded super-packet: use the frame length.
  const end = payload === 0 ? (wire > 0 ? wire : cap) : datagramEnd(off, 40 + payload, wire, p, 'bad-ipv6-payload-length');
  let next = u8(b, off + 6);
  let at = off + 40;
  let moreFragments = false;
  for (let n = 0; ; n++) {
    if (n > MAX_IPV6_EXTENSIONS) fail('bad-ipv6-extension', at);
    if (next === 0 || next === 43 || next === 60 || next === 135 || next === 139 || next === 140) {
      // Hop-by-hop, routing, destination options, mobility, HIP, shim6: length in 8-byte units after the first 8.
      need(at, 2, cap, 'truncated-ipv6-extension');
      next = u8(b, at);
      at += (u8(b, at + 1) + 1) * 8;
    } else if (next === 44) {
      need(at, 8, cap, 'truncated-ipv6-extension');
      const fragOffset = u16(b, at + 2) >> 3;
      moreFragments = (u8(b, at + 3) & 1) !== 0;
      p.fragment = true;
      next = u8(b, at);
      at += 8;
      if (fragOffset !== 0) {
        if (at > end) fail('bad-ipv6-extension', at);
        nameOnly(next, p);
        return;
      }
    } else if (next === 51) {
      // AH counts its length in 4-byte units after the first 8.
      need(at, 2, cap, 'truncated-ipv6-extension');
      next = u8(b, at);
      at += (u8(b, at + 1) + 2) * 4;
    } else break;
    if (at > end) fail('bad-ipv6-extension', at);
  }
  decodeTransport(b, next, at, end, cap, moreFragments, p);
}

function nameOnly(proto: number, p: DecodedPacket): void {
  const name = IP_PROTO_NAMES[proto] as string;
  p.protocols += `:${name}`;
  p.proto = name;
}

/**
 * `end` is where the IP payload ends on the wire; `cap` where captured bytes end. When the
 * datagram continues in later fragments, `moreFragments` relaxes the UDP length check.
 */
function decodeTransport(b: Uint8Array, proto: number, off: number, end: number, cap: number, moreFragments: boolean, p: DecodedPacket): void {
  nameOnly(proto, p);
  if (proto === IP_TCP) {
    need(off, 20, cap, 'truncated-tcp');
    if (off + 20 > end) fail('truncated-tcp', off);
    const hlen = (u8(b, off + 12) >> 4) * 4;
    if (hlen < 20 || off + hlen > end) fail('bad-tcp-header-length', off);
    const src = u16(b, off);
    const dst = u16(b, off + 2);
    p.srcPort = src;
    p.dstPort = dst;
    p.tcpHeaderLength = hlen;
    p.tcpFlags = u8(b, off + 13) | ((u8(b, off + 12) & 1) << 8);
    if (src === DNS_PORT || dst === DNS_PORT) decodeDnsOverTcp(b, off + hlen, end, cap, p);
  } else if (proto === IP_UDP) {
    need(off, 8, cap, 'truncated-udp');
    if (off + 8 > end) fail('truncated-udp', off);
    const len = u16(b, off + 4);
    if (len < 8 || (!moreFragments && off + len > end)) fail('bad-udp-length', off);
    const src = u16(b, off);
    const dst = u16(b, off + 2);
    p.srcPort = src;
    p.dstPort = dst;
    if (src === DNS_PORT || dst === DNS_PORT || src === MDNS_PORT || dst === MDNS_PORT) {
      addDns(summarizeDns(b, off + 8, Math.min(cap, end), off + len), p);
    }
  } else if (proto === IP_ICMP || proto === IP_ICMPV6) {
    need(off, 4, cap, 'truncated-icmp');
    if (off + 4 > end) fail('truncated-icmp', off);
    p.icmpType = u8(b, off);
    p.icmpCode = u8(b, off + 1);
  }
}

/** DNS over TCP is read only when this segment holds one whole length-prefixed message. */
function decodeDnsOverTcp(b: Uint8Array, at: number, end: number, cap: number, p: DecodedPacket): void {
  if (at + 2 > end || at + 2 > cap) return;
  const msgLen = u16(b, at);
  if (at + 2 + msgLen > end) return;
  addDns(summarizeDns(b, at + 2, Math.min(cap, end), at + 2 + msgLen), p);
}

function addDns(dns: DnsSummary | null, p: DecodedPacket): void {
  if (!dns) return;
  p.dns = dns;
  p.protocols += ':dns';
}
