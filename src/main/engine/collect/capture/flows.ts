/**
 * Exact per-flow totals of decoded packets, seen from this machine: which side is "local" is
 * decided by comparing addresses with the machine's own. Packets are counted, never sampled.
 */
import type { DecodedPacket } from './decode';

/**
 * outbound: from one of our addresses to elsewhere; inbound: to one of our addresses, or to a
 * multicast/broadcast group we hear; local: both ends ours (loopback, own IPs); transit:
 * neither end ours, only visible because the interface is promiscuous.
 */
export type Direction = 'outbound' | 'inbound' | 'local' | 'transit';

export interface Flow {
  proto: string;
  localAddr: string;
  localPort: number | null;
  remoteAddr: string;
  remotePort: number | null;
  direction: Direction;
  packets: number;
  bytes: number;
  firstTs: number;
  lastTs: number;
  /** OR of every packet's TCP flags; 0 for other protocols. */
  tcpFlags: number;
}

export interface LocalAddresses {
  /** The machine's own unicast addresses, in the text form the decoder prints. */
  addresses: ReadonlySet<string>;
  /** Directed-broadcast addresses of the local IPv4 subnets. */
  broadcasts?: ReadonlySet<string>;
}

export interface Tally {
  packets: number;
  bytes: number;
}

export interface FlowSnapshot {
  flows: Flow[];
  /** Frames with no IP/ARP addresses (LLC, LLDP, ...): counted, not attributed to a flow. */
  unattributed: Tally;
  /** Packets of new flows refused once the table was full; their flows are missing from `flows`. */
  overflow: Tally;
}

/** What makes a flow one row: everything but its totals. */
export const flowKey = (f: Flow): string => flowKeyOf(f.proto, f.localAddr, f.localPort, f.remoteAddr, f.remotePort, f.direction);

function flowKeyOf(proto: string, localAddr: string, localPort: number | null, remoteAddr: string, remotePort: number | null, direction: Direction): string {
  return `${proto}|${localAddr}|${localPort ?? ''}|${remoteAddr}|${remotePort ?? ''}|${direction}`;
}

// A scan or a flood with random ports would otherwise grow the table without bound.
const DEFAULT_MAX_FLOWS = 50_000;

export class FlowTable {
  private flows = new Map<string, Flow>();
  private unattributed: Tally = { packets: 0, bytes: 0 };
  private overflow: Tally = { packets: 0, bytes: 0 };
  private local: LocalAddresses;
  private readonly maxFlows: number;
  /** The flow of the previous packet: consecutive packets mostly share one, and then no key is built. */
  private last: Flow | null = null;

  constructor(local: LocalAddresses, options: { maxFlows?: number } = {}) {
    this.local = local;
    this.maxFlows = options.maxFlows ?? DEFAULT_MAX_FLOWS;
  }

  /** Addresses change (DHCP, VPN up/down); later packets are classified with the new set. */
  setLocalAddresses(local: LocalAddresses): void {
    this.local = local;
  }

  get size(): number {
    return this.flows.size;
  }

  addAll(packets: readonly DecodedPacket[]): void {
    for (let i = 0; i < packets.length; i++) this.add(packets[i] as DecodedPacket);
  }

  add(p: DecodedPacket): void {
    const { proto, srcAddr, dstAddr } = p;
    if (proto === null || srcAddr === null || dstAddr === null) {
      this.unattributed.packets++;
      this.unattributed.bytes += p.length;
      return;
    }
    const own = this.local.addresses;
    const srcLocal = own.has(srcAddr);
    const dstLocal = own.has(dstAddr);
    let direction: Direction;
    let localAddr: string;
    let localPort: number | null;
    let remoteAddr: string;
    let remotePort: number | null;
    if (srcLocal || !(dstLocal || this.isGroup(dstAddr))) {
      direction = srcLocal ? (dstLocal ? 'local' : 'outbound') : 'transit';
      localAddr = srcAddr;
      localPort = p.srcPort;
      remoteAddr = dstAddr;
      remotePort = p.dstPort;
    } else {
      direction = 'inbound';
      localAddr = dstAddr;
      localPort = p.dstPort;
      remoteAddr = srcAddr;
      remotePort = p.srcPort;
    }
    const last = this.last;
    const flow =
      last !== null && last.localPort === localPort && last.remotePort === remotePort && last.localAddr === localAddr && last.remoteAddr === remoteAddr && last.proto === proto && last.direction === direction
        ? last
        : this.flows.get(flowKeyOf(proto, localAddr, localPort, remoteAddr, remotePort, direction));
    if (flow) {
      this.last = flow;
      flow.packets++;
      flow.bytes += p.length;
      if (p.ts < flow.firstTs) flow.firstTs = p.ts;
      if (p.ts > flow.lastTs) flow.lastTs = p.ts;
      if (p.tcpFlags !== null) flow.tcpFlags |= p.tcpFlags;
      return;
    }
    if (this.flows.size >= this.maxFlows) {
      this.overflow.packets++;
      this.overflow.bytes += p.length;
      return;
    }
    const created: Flow = {
      proto,
      localAddr,
      localPort,
      remoteAddr,
      remotePort,
      direction,
      packets: 1,
      bytes: p.length,
      firstTs: p.ts,
      lastTs: p.ts,
      tcpFlags: p.tcpFlags ?? 0,
    };
    this.flows.set(flowKeyOf(proto, localAddr, localPort, remoteAddr, remotePort, direction), created);
    this.last = created;
  }

  /** Hands over everything counted so far and starts an empty table. */
  drain(): FlowSnapshot {
    const snapshot: FlowSnapshot = {
      flows: [...this.flows.values()],
      unattributed: this.unattributed,
      overflow: this.overflow,
    };
    this.flows = new Map();
    this.last = null;
    this.unattributed = { packets: 0, bytes: 0 };
    this.overflow = { packets: 0, bytes: 0 };
    return snapshot;
  }

  private isGroup(addr: string): boolean {
    if (this.local.broadcasts?.has(addr)) return true;
    return isMulticastOrBroadcast(addr);
  }
}

export function isMulticastOrBroadcast(addr: string): boolean {
  // ff00::/8 prints with a four-digit first group; "ff::1" is 00ff::1, not multicast.
  if (addr.includes(':')) return addr.startsWith('ff') && addr.indexOf(':') === 4;
  if (addr === '255.255.255.255') return true;
  const first = Number.parseInt(addr, 10);
  return first >= 224 && first <= 239;
}
