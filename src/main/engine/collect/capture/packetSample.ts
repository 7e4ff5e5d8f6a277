/**
 * A bounded per-interval sample of packet headers for the `packets` table. Flows are exact; this
 * is the per-packet detail, so it may drop, but it drops what matters least: DNS messages and
 * connection openings (SYN without ACK) are what people look for after an alert, so they are
 * kept ahead of everything else, and the rest is a uniform random sample (reservoir sampling),
 * so a flood in one second of the minute cannot crowd out the other fifty-nine.
 */
import type { DecodedPacket } from './decode';

/** One `packets` row: headers and DNS names only. */
export interface PacketRecord {
  ts: number;
  protocols: string;
  proto: string | null;
  srcAddr: string | null;
  srcPort: number | null;
  dstAddr: string | null;
  dstPort: number | null;
  length: number;
  tcpFlags: number | null;
  /** Question names, comma-separated. */
  dnsQuery: string | null;
  /** A/AAAA addresses and CNAME targets of the answers, comma-separated. */
  dnsAnswer: string | null;
  /** A DNS response's code (NOERROR, NXDOMAIN, ...); null for a query and for other packets. */
  dnsRcode?: string | null;
}

export interface PacketSampleResult {
  packets: PacketRecord[];
  /** Packets offered in the interval (decoded ones; malformed frames are counted elsewhere). */
  seen: number;
  /** DNS messages seen, and how many of them did not make it into `packets`. */
  dns: number;
  dnsDropped: number;
}

/**
 * Packet rows kept per round by default. Measured with bench/packetRows.ts on a busy host's mix
 * (30% IPv6, one packet in ten DNS with names): a packet row costs ~117 bytes of database with
 * its indexes, a flow row ~121. The budget is 50 MB a day = 36.4 KB for each of 1,440 rounds.
 * Flows are exact and cannot be sampled, so they get half: ~150 flow rows a minute (a busy
 * desktop or small server) = 18 KB; the other half is 150 packet rows = 17.5 KB. Together about
 * 51 MB a day; a machine with far more flows than that grows faster, by its flows alone.
 */
export const DEFAULT_MAX_PACKETS_PER_ROUND = 150;

const SYN = 0x02;
const ACK = 0x10;

export function isPriority(p: DecodedPacket): boolean {
  if (p.dns) return true;
  return p.tcpFlags !== null && (p.tcpFlags & (SYN | ACK)) === SYN;
}

/** The same test on a stored-form record (for merging samples). */
export function isDnsRecord(r: PacketRecord): boolean {
  return r.protocols.endsWith(':dns');
}

export function isPriorityRecord(r: PacketRecord): boolean {
  return isDnsRecord(r) || (r.tcpFlags !== null && (r.tcpFlags & (SYN | ACK)) === SYN);
}

export function toRecord(p: DecodedPacket): PacketRecord {
  const dns = p.dns;
  return {
    ts: p.ts,
    protocols: p.protocols,
    proto: p.proto,
    srcAddr: p.srcAddr,
    srcPort: p.srcPort,
    dstAddr: p.dstAddr,
    dstPort: p.dstPort,
    length: p.length,
    tcpFlags: p.tcpFlags,
    dnsQuery: dns && dns.queries.length ? dns.queries.join(',') : null,
    dnsAnswer: dns && dns.answers.length ? dns.answers.map((a) => a.data).join(',') : null,
    dnsRcode: dns && dns.isResponse ? dns.rcode : null,
  };
}

/** Algorithm R: after n offers, each offered item is held with probability k/n. */
class Reservoir {
  items: DecodedPacket[] = [];
  offered = 0;

  constructor(
    private readonly capacity: number,
    private readonly random: () => number,
  ) {}

  offer(p: DecodedPacket): void {
    this.offered++;
    if (this.items.length < this.capacity) {
      this.items.push(p);
      return;
    }
    const j = Math.floor(this.random() * this.offered);
    if (j < this.capacity) this.items[j] = p;
  }

  /** A uniform random `m` of the held items (partial Fisher-Yates); arrival order is not uniform. */
  pick(m: number): DecodedPacket[] {
    const items = this.items;
    if (m >= items.length) return items;
    for (let i = 0; i < m; i++) {
      const j = i + Math.floor(this.random() * (items.length - i));
      const t = items[i] as DecodedPacket;
      items[i] = items[j] as DecodedPacket;
      items[j] = t;
    }
    return items.slice(0, m);
  }
}

export class PacketSampler {
  private priority: Reservoir;
  private other: Reservoir;
  private dns = 0;

  constructor(
    private readonly maxPackets: number = DEFAULT_MAX_PACKETS_PER_ROUND,
    private readonly random: () => number = Math.random,
  ) {
    if (!Number.isInteger(maxPackets) || maxPackets < 0) throw new RangeError(`maxPackets must be a whole number >= 0, got ${maxPackets}`);
    this.priority = new Reservoir(maxPackets, random);
    this.other = new Reservoir(maxPackets, random);
  }

  add(p: DecodedPacket): void {
    if (p.dns) this.dns++;
    if (isPriority(p)) this.priority.offer(p);
    else this.other.offer(p);
  }

  /** The interval's sample in time order, and a fresh sampler for the next one. */
  take(): PacketSampleResult {
    const first = this.priority.pick(this.maxPackets);
    const rest = this.other.pick(this.maxPackets - first.length);
    const kept = first.concat(rest).sort((a, b) => a.ts - b.ts);
    let dnsKept = 0;
    for (const p of first) if (p.dns) dnsKept++;
    const result: PacketSampleResult = {
      packets: kept.map(toRecord),
      seen: this.priority.offered + this.other.offered,
      dns: this.dns,
      dnsDropped: this.dns - dnsKept,
    };
    this.priority = new Reservoir(this.maxPackets, this.random);
    this.other = new Reservoir(this.maxPackets, this.random);
    this.dns = 0;
    return result;
  }
}
