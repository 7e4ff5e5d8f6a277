import type { Db } from './database';
import type { CaptureReport } from '../collect/capture/captureSummary';
import type { Direction, Flow } from '../collect/capture/flows';
import type { PacketRecord } from '../collect/capture/packetSample';
import type { ConnectionEntry } from '../collect/sockets/types';
import { plainAddress, ResolvedNames } from './resolvedNames';

/** What capture contributed to one round: a report, or why there is none. */
export type RoundCapture =
  | { state: 'on'; iface: string; report: CaptureReport }
  | { state: 'off' | 'error'; iface: string | null; message: string };

export interface StoredFlow extends Omit<Flow, 'direction'> {
  direction: Direction;
  portId: number | null;
  processId: number | null;
  /** The owning process's name, when the scan saw one. */
  process: string | null;
}

export interface StoredPacket extends Omit<PacketRecord, 'proto'> {
  portId: number | null;
  processId: number | null;
}

export interface StoredCaptureState {
  iface: string | null;
  state: 'on' | 'off' | 'error';
  message: string | null;
  fromTs: number | null;
  toTs: number | null;
  packetsSeen: number;
  packetsKept: number;
  malformed: number;
  kernelDrops: number | null;
  dnsOverflow: number;
  flowOverflow: number;
}

interface SocketLink {
  address: string;
  portId: number;
  processId: number | null;
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

/**
 * Which of the round's sockets an endpoint belongs to: same protocol and port, and the socket's
 * address either equal to the endpoint's or a wildcard. An exact address beats a wildcard,
 * since a port can be held by one process on 127.0.0.1 and another on 0.0.0.0.
 */
class SocketIndex {
  private readonly byPort = new Map<string, SocketLink[]>();

  add(proto: string, port: number, link: SocketLink): void {
    const key = `${proto}|${port}`;
    const list = this.byPort.get(key);
    if (list) list.push(link);
    else this.byPort.set(key, [link]);
  }

  find(proto: string | null, addr: string | null, port: number | null): SocketLink | null {
    if (proto === null || port === null || addr === null) return null;
    const list = this.byPort.get(`${proto}|${port}`);
    if (!list) return null;
    return list.find((s) => s.address === addr) ?? list.find((s) => WILDCARDS.has(s.address)) ?? null;
  }
}

const ms = (t: number): number => Math.round(t);

/** The connections around a round's traffic: its own scan's, and the previous round's (closed since). */
export interface RoundConnections {
  current: readonly ConnectionEntry[];
  previous: readonly ConnectionEntry[];
}

const tuple = (proto: string, localAddr: string, localPort: number | null, remoteAddr: string, remotePort: number | null): string =>
  `${proto}|${plainAddress(localAddr)}|${localPort}|${plainAddress(remoteAddr)}|${remotePort}`;

/**
 * Connections by 5-tuple, the current round's winning over the previous one's: traffic of the
 * interval between the two scans belongs to a connection one of them saw (one that opened and
 * closed in between is seen by neither, and its traffic keeps no process).
 */
function connectionIndex(c: RoundConnections | undefined): Map<string, ConnectionEntry> {
  const index = new Map<string, ConnectionEntry>();
  if (!c) return index;
  for (const list of [c.previous, c.current]) {
    for (const e of list) index.set(tuple(e.proto, e.localAddress, e.localPort, e.remoteAddress, e.remotePort), e);
  }
  return index;
}

/**
 * Writes what capture saw during a round (flows, sampled packet headers, counts) in one
 * transaction, and links traffic to the ports and processes the same round's scan found.
 */
export class CaptureStore {
  private readonly socketsOfRound;
  private readonly insertFlow;
  private readonly insertPacket;
  private readonly insertState;
  private readonly processByIdentity;
  private readonly nameEndpoints;
  private readonly write;
  private readonly names: ResolvedNames;

  /** `names`: shared with the RoundStore, so that an endpoint first stored after its DNS answer is named too. */
  constructor(
    private readonly db: Db,
    names: ResolvedNames | null = null,
  ) {
    this.names = names ?? new ResolvedNames();
    this.processByIdentity = db.prepare<[string], number>('SELECT id FROM processes WHERE identity = ?').pluck();
    this.nameEndpoints = db.prepare<[string, number, string, string, number]>(
      'UPDATE remote_endpoints SET name = ?, name_at = ? WHERE address IN (?, ?) AND coalesce(name_at, -1) < ?',
    );
    // The round just written: the newest hour stays in rounds_ports, row by row (compaction.ts).
    this.socketsOfRound = db.prepare<[number], { proto: string; port: number; address: string; portId: number; processId: number | null }>(
      `SELECT p.proto, p.port, rp.address, rp.port_id AS portId, rp.process_id AS processId
       FROM rounds_ports rp JOIN ports p ON p.id = rp.port_id WHERE rp.round_id = ? ORDER BY rp.id`,
    );
    this.insertFlow = db.prepare(
      `INSERT INTO flows (round_id, proto, local_addr, local_port, remote_addr, remote_port, direction, packets, bytes, first_ts, last_ts, tcp_flags, port_id, process_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertPacket = db.prepare(
      `INSERT INTO packets (round_id, ts, protocols, src_addr, src_port, dst_addr, dst_port, length, tcp_flags, dns_query, dns_answer, dns_rcode, port_id, process_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertState = db.prepare(
      `INSERT INTO round_capture (round_id, iface, state, message, from_ts, to_ts, packets_seen, packets_kept, malformed, kernel_drops, dns_overflow, flow_overflow)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.write = db.transaction((roundId: number, capture: RoundCapture, around: RoundConnections | undefined) => {
      if (capture.state !== 'on') {
        this.insertState.run(roundId, capture.iface, capture.state, capture.message, null, null, 0, 0, 0, null, 0, 0);
        return;
      }
      const r = capture.report;
      const sockets = this.indexSockets(roundId);
      // Addresses that are ours, as the flow table decided: a packet endpoint elsewhere on the
      // network that happens to use the same port number must not be linked to our socket.
      const ours = new Set<string>();
      for (const f of r.flows.flows) {
        if (f.direction === 'transit') continue;
        ours.add(f.localAddr);
        if (f.direction === 'local') ours.add(f.remoteAddr);
      }
      const connections = connectionIndex(around);
      const processOf = this.processLookup();
      /** The process of the connection this traffic belongs to, seen from either end. */
      const talker = (proto: string, aAddr: string | null, aPort: number | null, bAddr: string | null, bPort: number | null): number | null => {
        if (aAddr === null || bAddr === null) return null;
        const c = connections.get(tuple(proto, aAddr, aPort, bAddr, bPort)) ?? connections.get(tuple(proto, bAddr, bPort, aAddr, aPort));
        return c ? processOf(c) : null;
      };
      for (const f of r.flows.flows) {
        const link =
          f.direction === 'transit'
            ? null
            : (sockets.find(f.proto, f.localAddr, f.localPort) ?? (f.direction === 'local' ? sockets.find(f.proto, f.remoteAddr, f.remotePort) : null));
        const processId = link?.processId ?? (f.direction === 'transit' ? null : talker(f.proto, f.localAddr, f.localPort, f.remoteAddr, f.remotePort));
        this.insertFlow.run(
          roundId, f.proto, f.localAddr, f.localPort, f.remoteAddr, f.remotePort, f.direction, f.packets, f.bytes,
          ms(f.firstTs), ms(f.lastTs), f.tcpFlags, link?.portId ?? null, processId,
        );
      }
      for (const p of r.sample.packets) {
        const link = packetLink(sockets, ours, p);
        const mine = (p.srcAddr !== null && ours.has(p.srcAddr)) || (p.dstAddr !== null && ours.has(p.dstAddr));
        const processId = link?.processId ?? (mine && p.proto !== null ? talker(p.proto, p.srcAddr, p.srcPort, p.dstAddr, p.dstPort) : null);
        this.insertPacket.run(
          roundId, ms(p.ts), p.protocols, p.srcAddr, p.srcPort, p.dstAddr, p.dstPort, p.length, p.tcpFlags, p.dnsQuery, p.dnsAnswer, p.dnsRcode ?? null,
          link?.portId ?? null, processId,
        );
      }
      // Names for the remote ends: the ones stored already now, the ones to come when first stored.
      for (const l of this.names.learn(r.dns)) this.nameEndpoints.run(l.name, l.at, l.address, `::ffff:${l.address}`, l.at);
      const seen = r.sample.seen + r.malformedCount;
      this.insertState.run(
        roundId, capture.iface, 'on', null, ms(r.from), ms(r.to), seen, r.sample.packets.length, r.malformedCount,
        r.counters.kernelDrops, r.sample.dnsDropped, r.flows.overflow.packets,
      );
    });
  }

  /**
   * Stores a round's capture; the round (and its sockets) must already be written. `around`:
   * the connections of this round's scan and the previous one's, so that traffic on them names
   * its process (a listener's traffic is named through the round's stored sockets).
   */
  record(roundId: number, capture: RoundCapture, around?: RoundConnections): void {
    this.write.immediate(roundId, capture, around);
  }

  /** processes.id of a connection's owner (written with the round), cached for one record(). */
  private processLookup(): (c: ConnectionEntry) => number | null {
    const cache = new Map<string, number | null>();
    return (c) => {
      if (c.process === null && c.exe === null && c.user === null) return null;
      const identity = JSON.stringify([c.process, c.exe, c.user]);
      let id = cache.get(identity);
      if (id === undefined) {
        id = this.processByIdentity.get(identity) ?? null;
        cache.set(identity, id);
      }
      return id;
    };
  }

  flowsOf(roundId: number): StoredFlow[] {
    return this.db
      .prepare<[number], StoredFlow>(
        `SELECT f.proto, f.local_addr AS localAddr, f.local_port AS localPort, f.remote_addr AS remoteAddr, f.remote_port AS remotePort,
                f.direction, f.packets, f.bytes, f.first_ts AS firstTs, f.last_ts AS lastTs, f.tcp_flags AS tcpFlags,
                f.port_id AS portId, f.process_id AS processId, pr.name AS process
         FROM flows f LEFT JOIN processes pr ON pr.id = f.process_id WHERE f.round_id = ? ORDER BY f.id`,
      )
      .all(roundId);
  }

  packetsOf(roundId: number): StoredPacket[] {
    return this.db
      .prepare<[number], StoredPacket>(
        `SELECT ts, protocols, src_addr AS srcAddr, src_port AS srcPort, dst_addr AS dstAddr, dst_port AS dstPort, length,
                tcp_flags AS tcpFlags, dns_query AS dnsQuery, dns_answer AS dnsAnswer, dns_rcode AS dnsRcode, port_id AS portId, process_id AS processId
         FROM packets WHERE round_id = ? ORDER BY ts, id`,
      )
      .all(roundId);
  }

  stateOf(roundId: number): StoredCaptureState | null {
    return (
      this.db
        .prepare<[number], StoredCaptureState>(
          `SELECT iface, state, message, from_ts AS fromTs, to_ts AS toTs, packets_seen AS packetsSeen, packets_kept AS packetsKept,
                  malformed, kernel_drops AS kernelDrops, dns_overflow AS dnsOverflow, flow_overflow AS flowOverflow
           FROM round_capture WHERE round_id = ?`,
        )
        .get(roundId) ?? null
    );
  }

  private indexSockets(roundId: number): SocketIndex {
    const index = new SocketIndex();
    for (const s of this.socketsOfRound.all(roundId)) index.add(s.proto, s.port, { address: s.address, portId: s.portId, processId: s.processId });
    return index;
  }
}

/** A packet belongs to our socket at its destination (inbound) or at its source (replies). */
function packetLink(sockets: SocketIndex, ours: ReadonlySet<string>, p: PacketRecord): SocketLink | null {
  if (p.dstAddr !== null && ours.has(p.dstAddr)) {
    const link = sockets.find(p.proto, p.dstAddr, p.dstPort);
    if (link) return link;
  }
  if (p.srcAddr !== null && ours.has(p.srcAddr)) return sockets.find(p.proto, p.srcAddr, p.srcPort);
  return null;
}
