/**
 * Builds packets byte by byte as the RFCs lay them out, with valid IPv4 header checksums, so
 * decoder tests feed it the same bytes a wire would carry.
 */

export function ipv4Bytes(addr: string): Buffer {
  const parts = addr.split('.').map(Number);
  if (parts.length !== 4 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) throw new Error(`bad IPv4 ${addr}`);
  return Buffer.from(parts);
}

export function ipv6Bytes(addr: string): Buffer {
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, undefined];
  const groups = (s: string | undefined): number[] => (s ? s.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  if (all.length !== 8) throw new Error(`bad IPv6 ${addr}`);
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface Ipv4Options {
  src: string;
  dst: string;
  proto: number;
  payload: Buffer;
  options?: Buffer;
  id?: number;
  moreFragments?: boolean;
  /** In 8-byte units, as on the wire. */
  fragmentOffset?: number;
  /** Overrides the computed total length (to build lies). */
  totalLength?: number;
  ttl?: number;
}

export function ipv4(o: Ipv4Options): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  if (opts.length % 4 !== 0) throw new Error('IPv4 options must be padded to 4 bytes');
  const ihl = 20 + opts.length;
  const h = Buffer.alloc(ihl);
  h[0] = 0x40 | (ihl / 4);
  h.writeUInt16BE(o.totalLength ?? ihl + o.payload.length, 2);
  h.writeUInt16BE(o.id ?? 0x1234, 4);
  h.writeUInt16BE((o.moreFragments ? 0x2000 : 0) | (o.fragmentOffset ?? 0), 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.proto;
  ipv4Bytes(o.src).copy(h, 12);
  ipv4Bytes(o.dst).copy(h, 16);
  opts.copy(h, 20);
  h.writeUInt16BE(checksum(h), 10);
  return Buffer.concat([h, o.payload]);
}

export interface Ipv6Extension {
  type: number;
  /** The header's bytes after its next-header byte is filled in (the first byte is overwritten). */
  bytes: Buffer;
}

export function ipv6(o: { src: string; dst: string; next: number; payload: Buffer; extensions?: Ipv6Extension[]; payloadLength?: number }): Buffer {
  const exts = o.extensions ?? [];
  const chain: Buffer[] = [];
  for (let i = 0; i < exts.length; i++) {
    const bytes = Buffer.from(exts[i]!.bytes);
    bytes[0] = i + 1 < exts.length ? exts[i + 1]!.type : o.next;
    chain.push(bytes);
  }
  const body = Buffer.concat([...chain, o.payload]);
  const h = Buffer.alloc(40);
  h.writeUInt32BE(0x60000000, 0);
  h.writeUInt16BE(o.payloadLength ?? body.length, 4);
  h[6] = exts.length ? exts[0]!.type : o.next;
  h[7] = 64;
  ipv6Bytes(o.src).copy(h, 8);
  ipv6Bytes(o.dst).copy(h, 24);
  return Buffer.concat([h, body]);
}

/** An options-style extension header (hop-by-hop, destination, routing) of `units` 8-byte units. */
export function ipv6OptionsHeader(type: number, units = 1): Ipv6Extension {
  const bytes = Buffer.alloc(units * 8);
  bytes[1] = units - 1;
  // PadN option filling the rest, as real stacks emit.
  bytes[2] = 1;
  bytes[3] = units * 8 - 4;
  return { type, bytes };
}

export function ipv6FragmentHeader(offsetUnits: number, more: boolean): Ipv6Extension {
  const bytes = Buffer.alloc(8);
  bytes.writeUInt16BE((offsetUnits << 3) | (more ? 1 : 0), 2);
  bytes.writeUInt32BE(0xabcd, 4);
  return { type: 44, bytes };
}

export const TCP = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export function tcp(o: { sport: number; dport: number; flags: number; options?: Buffer; payload?: Buffer; ns?: boolean }): Buffer {
  const opts = o.options ?? Buffer.alloc(0);
  const hlen = 20 + opts.length;
  const h = Buffer.alloc(hlen);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt32BE(1000, 4);
  h.writeUInt32BE(o.flags & TCP.ACK ? 2000 : 0, 8);
  h[12] = ((hlen / 4) << 4) | (o.ns ? 1 : 0);
  h[13] = o.flags;
  h.writeUInt16BE(65535, 14);
  opts.copy(h, 20);
  return Buffer.concat([h, o.payload ?? Buffer.alloc(0)]);
}

export function udp(o: { sport: number; dport: number; payload: Buffer; length?: number }): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt16BE(o.length ?? 8 + o.payload.length, 4);
  return Buffer.concat([h, o.payload]);
}

export function icmp(type: number, code: number, rest: Buffer = Buffer.alloc(4)): Buffer {
  const h = Buffer.from([type, code, 0, 0]);
  return Buffer.concat([h, rest]);
}

export const MAC_A = Buffer.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x0a]);
export const MAC_B = Buffer.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x0b]);

export function ethernet(type: number, payload: Buffer, vlans: number[] = [], outerTpid = 0x8100): Buffer {
  // dst MAC, src MAC, then a (TPID, TCI) pair per VLAN tag, then the real EtherType.
  const tags = vlans.map((id, i) => {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(i === 0 ? outerTpid : 0x8100, 0);
    t.writeUInt16BE(id & 0x0fff, 2);
    return t;
  });
  const typeField = Buffer.alloc(2);
  typeField.writeUInt16BE(type, 0);
  return Buffer.concat([MAC_B, MAC_A, ...tags, typeField, payload]);
}

/** Linux cooked capture v1 (DLT 113) header. */
export function sll(protocol: number, payload: Buffer, packetType = 0): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(packetType, 0);
  h.writeUInt16BE(1, 2); // ARPHRD_ETHER
  h.writeUInt16BE(6, 4);
  MAC_A.copy(h, 6);
  h.writeUInt16BE(protocol, 14);
  return Buffer.concat([h, payload]);
}

/** Linux cooked capture v2 (DLT 276) header. */
export function sll2(protocol: number, payload: Buffer, ifindex = 2): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(protocol, 0);
  h.writeUInt32BE(ifindex, 4);
  h.writeUInt16BE(1, 8);
  h[10] = 4; // PACKET_OUTGOING
  h[11] = 6;
  MAC_A.copy(h, 12);
  return Buffer.concat([h, payload]);
}

/** BSD loopback (DLT_NULL): the address family in the capturing host's byte order. */
export function bsdNull(family: number, payload: Buffer, littleEndian = true): Buffer {
  const h = Buffer.alloc(4);
  if (littleEndian) h.writeUInt32LE(family, 0);
  else h.writeUInt32BE(family, 0);
  return Buffer.concat([h, payload]);
}

/** OpenBSD loopback (DLT_LOOP): the address family in network byte order. */
export function bsdLoop(family: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(family, 0);
  return Buffer.concat([h, payload]);
}

export function arpRequest(senderIp: string, targetIp: string): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16BE(1, 0); // Ethernet
  b.writeUInt16BE(0x0800, 2);
  b[4] = 6;
  b[5] = 4;
  b.writeUInt16BE(1, 6); // request
  MAC_A.copy(b, 8);
  ipv4Bytes(senderIp).copy(b, 14);
  ipv4Bytes(targetIp).copy(b, 24);
  return b;
}
