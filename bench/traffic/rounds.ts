import type { CaptureReport, DnsEvent } from '../../src/main/engine/collect/capture/captureSummary';
import type { DnsSummary } from '../../src/main/engine/collect/capture/dns';
import type { Flow } from '../../src/main/engine/collect/capture/flows';
import { DEFAULT_MAX_PACKETS_PER_ROUND, type PacketRecord } from '../../src/main/engine/collect/capture/packetSample';
import { compareConnections, compareSockets, countedConnections, type ConnectionEntry, type ConnectionState, type Snapshot, type SocketEntry } from '../../src/main/engine/collect/sockets/types';
import type { Draw } from './draw';
import { LOCAL_V4, MINUTE, SECOND, type Conn, type DnsTransaction, type RawFlow, type Traffic } from './world';

/**
 * Cuts the week into one-minute rounds as the monitor sees them: the scan at the round's start
 * (the sockets alive at that instant), and the capture report of the minute before it (the
 * flows of every packet in it, the DNS messages, a sample of packet headers chosen as
 * packetSample.ts chooses them: DNS and connection openings first, then a uniform draw).
 */
export interface SimRound {
  index: number;
  startedAt: number;
  snapshot: Snapshot;
  report: CaptureReport;
}

const SYN = 0x02;
const FIN = 0x01;
const ACK = 0x10;
const PSH = 0x08;

const mss = (c: Conn) => (c.proto === 'tcp' ? 1448 : 1350);
/** Ethernet + IP + TCP (with timestamps) or UDP headers. */
const header = (proto: string, family: 4 | 6) => (proto === 'tcp' ? 66 : 42) + (family === 6 ? 20 : 0);

interface Side {
  payload: number;
  data: number;
  control: number;
  flags: number;
  first: number;
  last: number;
}

const side = (): Side => ({ payload: 0, data: 0, control: 0, flags: 0, first: Infinity, last: -Infinity });
const touch = (s: Side, t: number) => {
  if (t < s.first) s.first = t;
  if (t > s.last) s.last = t;
};

interface Active {
  conn: Conn;
  cursor: number;
  /** When it last shows anywhere: socket table, exchanges, transfers. */
  until: number;
}

const flowKey = (proto: string, localAddr: string, localPort: number | null, remoteAddr: string, remotePort: number | null, direction: string) => `${proto}|${localAddr}|${localPort}|${remoteAddr}|${remotePort}|${direction}`;

class RoundFlows {
  readonly flows = new Map<string, Flow>();

  add(f: Omit<Flow, 'firstTs' | 'lastTs' | 'tcpFlags'> & { first: number; last: number; flags: number }): void {
    if (f.packets <= 0) return;
    const key = flowKey(f.proto, f.localAddr, f.localPort, f.remoteAddr, f.remotePort, f.direction);
    const known = this.flows.get(key);
    if (known) {
      known.packets += f.packets;
      known.bytes += f.bytes;
      known.firstTs = Math.min(known.firstTs, f.first);
      known.lastTs = Math.max(known.lastTs, f.last);
      known.tcpFlags |= f.flags;
      return;
    }
    this.flows.set(key, { proto: f.proto, localAddr: f.localAddr, localPort: f.localPort, remoteAddr: f.remoteAddr, remotePort: f.remotePort, direction: f.direction, packets: f.packets, bytes: f.bytes, firstTs: f.first, lastTs: f.last, tcpFlags: f.flags });
  }
}

/** A connection's packets in [a, b): handshake, exchanges, transfers, close. */
function trafficOf(x: Active, a: number, b: number, flows: RoundFlows, syns: PacketRecord[]): void {
  const c = x.conn;
  const out = side();
  const inn = side();
  const m = mss(c);
  const mine = c.opened === 'out' ? out : inn;
  const theirs = c.opened === 'out' ? inn : out;
  if (c.proto === 'tcp' && c.start >= a && c.start < b) {
    mine.control += 2;
    mine.flags |= SYN | ACK;
    theirs.control += 1;
    theirs.flags |= SYN | ACK;
    touch(mine, c.start);
    touch(theirs, c.start + 0.02 * SECOND);
    const local = c.opened === 'out';
    syns.push(record(c.proto, c.family, local ? c.localAddress : c.remoteAddress, local ? c.localPort : c.remotePort, local ? c.remoteAddress : c.localAddress, local ? c.remotePort : c.localPort, c.start, 74 + (c.family === 6 ? 20 : 0), SYN, null, null));
  }
  const ex = c.ex;
  while (x.cursor < ex.length && ex[x.cursor]! < b) {
    const t = ex[x.cursor]!;
    if (t >= a) {
      const o = ex[x.cursor + 1]!;
      const i = ex[x.cursor + 2]!;
      if (o > 0) {
        out.payload += o;
        out.data += Math.ceil(o / m);
        out.flags |= PSH | ACK;
        touch(out, t);
      }
      if (i > 0) {
        inn.payload += i;
        inn.data += Math.ceil(i / m);
        inn.flags |= PSH | ACK;
        touch(inn, t + 0.03 * SECOND);
      }
    }
    x.cursor += 3;
  }
  for (let k = 0; k < c.bulk.length; k += 4) {
    const from = c.bulk[k]!;
    const to = c.bulk[k + 1]!;
    const lo = Math.max(a, from);
    const hi = Math.min(b, to);
    if (hi <= lo) continue;
    const share = (hi - lo) / (to - from);
    for (const [s, bytes] of [[out, c.bulk[k + 2]! * share], [inn, c.bulk[k + 3]! * share]] as const) {
      if (bytes < 1) continue;
      s.payload += Math.round(bytes);
      s.data += Math.ceil(bytes / m);
      s.flags |= PSH | ACK;
      touch(s, lo);
      touch(s, hi - 1);
    }
  }
  if (c.proto === 'tcp' && c.end >= a && c.end < b) {
    for (const s of [out, inn]) {
      s.control += 1;
      s.flags |= FIN | ACK;
      touch(s, c.end);
    }
  }
  if (c.loopback) return;
  // Acknowledgements: one for every two segments received (TCP, and QUIC on 443; not NTP or DNS).
  const acks = c.proto === 'tcp' || c.remotePort === 443;
  const h = header(c.proto, c.family);
  for (const [s, other, direction] of [[out, inn, 'outbound'], [inn, out, 'inbound']] as const) {
    const ackCount = acks ? Math.ceil(other.data / 2) : 0;
    if (ackCount > 0) {
      s.flags |= c.proto === 'tcp' ? ACK : 0;
      if (s.first === Infinity) touch(s, other.first);
      touch(s, other.last);
    }
    const packets = s.data + s.control + ackCount;
    if (packets === 0) continue;
    flows.add({ proto: c.proto, localAddr: c.localAddress, localPort: c.localPort, remoteAddr: c.remoteAddress, remotePort: c.remotePort, direction, packets, bytes: s.payload + packets * h, first: s.first, last: s.last, flags: c.proto === 'tcp' ? s.flags : 0 });
  }
}

function stateAt(c: Conn, t: number): ConnectionState | null {
  if (t >= c.start && t < c.end) {
    if (c.proto === 'udp') return 'connected';
    return c.opened === 'out' && t - c.start < 0.05 * SECOND ? 'syn-sent' : 'established';
  }
  if (c.tail && t >= c.end && t < c.tail.until) return c.tail.state;
  return null;
}

function record(proto: string, family: 4 | 6, src: string, srcPort: number | null, dst: string, dstPort: number | null, ts: number, length: number, flags: number | null, q: string | null, ans: string | null): PacketRecord {
  const ip = proto === 'arp' ? '' : family === 6 ? ':ipv6' : ':ipv4';
  return { ts, protocols: `eth${ip}:${proto}${q !== null ? ':dns' : ''}`, proto, srcAddr: src, srcPort, dstAddr: dst, dstPort, length, tcpFlags: proto === 'tcp' ? flags : null, dnsQuery: q, dnsAnswer: ans };
}

/** A transaction's messages: flows, DNS events and their packet records. */
function dnsOf(tx: DnsTransaction, b: number, flows: RoundFlows, events: DnsEvent[], records: PacketRecord[]): void {
  const family = tx.server.includes(':') ? 6 : 4;
  const local = family === 6 ? '::1' : LOCAL_V4;
  let outBytes = 0;
  let inBytes = 0;
  let first = Infinity;
  let last = -Infinity;
  tx.qtypes.forEach((_qtype, i) => {
    const qt = tx.t + i * 0.1;
    const rt = Math.min(b - 0.5, qt + tx.rtt);
    const qLen = 42 + 12 + tx.name.length + 2 + 4 + 11;
    const answers = tx.answers[i] ?? [];
    const aLen = qLen + answers.reduce((s, a) => s + 12 + (a.type === 'A' ? 4 : a.type === 'AAAA' ? 16 : a.data.length + 2), 0);
    outBytes += qLen;
    inBytes += aLen;
    first = Math.min(first, rt);
    last = Math.max(last, rt);
    const query: DnsSummary = { isResponse: false, rcode: 'NOERROR', queries: [tx.name], answers: [], partial: false };
    const reply: DnsSummary = { isResponse: true, rcode: tx.rcode, queries: [tx.name], answers, partial: false };
    events.push({ ts: qt, proto: 'udp', srcAddr: local, dstAddr: tx.server, srcPort: tx.localPort, dstPort: 53, dns: query });
    events.push({ ts: rt, proto: 'udp', srcAddr: tx.server, dstAddr: local, srcPort: 53, dstPort: tx.localPort, dns: reply });
    records.push(record('udp', family, local, tx.localPort, tx.server, 53, qt, qLen, null, tx.name, null));
    records.push(record('udp', family, tx.server, 53, local, tx.localPort, rt, aLen, null, tx.name, answers.length ? answers.map((a) => a.data).join(',') : null));
  });
  const n = tx.qtypes.length;
  flows.add({ proto: 'udp', localAddr: local, localPort: tx.localPort, remoteAddr: tx.server, remotePort: 53, direction: 'outbound', packets: n, bytes: outBytes, first: tx.t, last: tx.t + (n - 1) * 0.1, flags: 0 });
  flows.add({ proto: 'udp', localAddr: local, localPort: tx.localPort, remoteAddr: tx.server, remotePort: 53, direction: 'inbound', packets: n, bytes: inBytes, first, last, flags: 0 });
}

/** The packet sample of a round: priority records first (a random subset if too many), then a draw from the other packets. */
function sample(priority: PacketRecord[], flows: readonly Flow[], otherPackets: number, draw: Draw, max: number): PacketRecord[] {
  let kept = priority;
  if (kept.length > max) kept = draw.shuffled(kept).slice(0, max);
  const room = Math.min(max - kept.length, otherPackets);
  if (room > 0) {
    const cumulative: number[] = [];
    let sum = 0;
    for (const f of flows) cumulative.push((sum += f.packets));
    const extra: PacketRecord[] = [];
    for (let i = 0; i < room; i++) {
      const x = draw.next() * sum;
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[mid]! <= x) lo = mid + 1;
        else hi = mid;
      }
      const f = flows[lo]!;
      const family = f.localAddr.includes(':') ? 6 : 4;
      const h = header(f.proto, family);
      const big = draw.next() < Math.max(0, f.bytes / f.packets - h) / 1448;
      const out = f.direction === 'outbound';
      const ts = f.firstTs + draw.next() * (f.lastTs - f.firstTs);
      extra.push(record(f.proto, family, out ? f.localAddr : f.remoteAddr, out ? f.localPort : f.remotePort, out ? f.remoteAddr : f.localAddr, out ? f.remotePort : f.localPort, ts, big ? 1448 + h : h, f.proto === 'tcp' ? (big ? PSH | ACK : ACK) : null, null, null));
    }
    kept = kept.concat(extra);
  }
  return kept.sort((x, y) => x.ts - y.ts);
}

/** Sorts what the rounds read in time order (connections by start, each one's exchanges by time). */
export function finalize(tr: Traffic): void {
  tr.conns.sort((a, b) => a.start - b.start);
  for (const c of tr.conns) {
    const triples: [number, number, number][] = [];
    for (let i = 0; i < c.ex.length; i += 3) triples.push([c.ex[i]!, c.ex[i + 1]!, c.ex[i + 2]!]);
    triples.sort((a, b) => a[0] - b[0]);
    c.ex = triples.flat();
  }
  tr.transactions.sort((a, b) => a.t - b.t);
  tr.raw.sort((a, b) => a.t - b.t);
}

export interface RoundsOptions {
  start: number;
  rounds: number;
  listeners: SocketEntry[];
  draw: Draw;
  maxPackets?: number;
}

/** The rounds, one at a time; `tr` must be finalized. */
export function* roundsOf(tr: Traffic, o: RoundsOptions): Generator<SimRound, void, undefined> {
  const sockets = [...o.listeners].sort(compareSockets);
  const maxPackets = o.maxPackets ?? DEFAULT_MAX_PACKETS_PER_ROUND;
  let nextConn = 0;
  let nextTx = 0;
  let nextRaw = 0;
  let active: Active[] = [];
  let seen = 0;
  for (let k = 0; k < o.rounds; k++) {
    const b = o.start + k * MINUTE;
    const a = b - MINUTE;
    while (nextConn < tr.conns.length && tr.conns[nextConn]!.start < b) {
      const conn = tr.conns[nextConn++]!;
      let until = Math.max(conn.end, conn.tail?.until ?? 0);
      if (conn.ex.length) until = Math.max(until, conn.ex[conn.ex.length - 3]!);
      for (let i = 1; i < conn.bulk.length; i += 4) until = Math.max(until, conn.bulk[i]!);
      active.push({ conn, cursor: 0, until });
    }
    const flows = new RoundFlows();
    const priority: PacketRecord[] = [];
    const connected: ConnectionEntry[] = [];
    for (const x of active) {
      trafficOf(x, a, b, flows, priority);
      const state = stateAt(x.conn, b);
      if (state) {
        const c = x.conn;
        connected.push({ proto: c.proto, family: c.family, localAddress: c.localAddress, localPort: c.localPort, remoteAddress: c.remoteAddress, remotePort: c.remotePort, state, ...c.owner });
      }
    }
    active = active.filter((x) => x.until >= b);
    // Openings on loopback are not on the captured interface.
    const syns = priority.filter((p) => !(p.srcAddr?.startsWith('127.') ?? false));
    priority.length = 0;
    priority.push(...syns);
    for (; nextRaw < tr.raw.length && tr.raw[nextRaw]!.t < b; nextRaw++) {
      const r: RawFlow = tr.raw[nextRaw]!;
      if (r.t < a) continue;
      flows.add({ proto: r.proto, localAddr: r.localAddr, localPort: r.localPort, remoteAddr: r.remoteAddr, remotePort: r.remotePort, direction: r.direction, packets: r.packets, bytes: r.bytes, first: r.t, last: r.t, flags: r.flags });
      if (r.proto === 'tcp' && r.direction === 'inbound' && r.flags & SYN) {
        const family = r.localAddr.includes(':') ? 6 : 4;
        priority.push(record('tcp', family, r.remoteAddr, r.remotePort, r.localAddr, r.localPort, r.t, 60, SYN, null, null));
      }
    }
    const events: DnsEvent[] = [];
    const dnsRecords: PacketRecord[] = [];
    for (; nextTx < tr.transactions.length && tr.transactions[nextTx]!.t < b; nextTx++) {
      const tx = tr.transactions[nextTx]!;
      if (tx.t >= a) dnsOf(tx, b, flows, events, dnsRecords);
    }
    const flowList = [...flows.flows.values()];
    const packets = flowList.reduce((s, f) => s + f.packets, 0);
    seen += packets;
    const first = dnsRecords.concat(priority);
    const kept = sample(first, flowList, Math.max(0, packets - first.length), o.draw, maxPackets);
    const dnsKept = kept.reduce((n, p) => n + (p.dnsQuery !== null ? 1 : 0), 0);
    yield {
      index: k,
      startedAt: b,
      snapshot: { takenAt: b, sockets, connected: connected.sort(compareConnections), connections: countedConnections(connected) },
      report: {
        from: a,
        to: b,
        flows: { flows: flowList, unattributed: { packets: 0, bytes: 0 }, overflow: { packets: 0, bytes: 0 } },
        dns: events.sort((x, y) => x.ts - y.ts),
        dnsOverflow: 0,
        malformed: {},
        sample: { packets: kept, seen: packets, dns: events.length, dnsDropped: events.length - dnsKept },
        malformedCount: 0,
        counters: { seen, decoded: seen, malformed: 0, truncated: 0, kernelDrops: 0, batches: k + 1, callbackErrors: 0 },
      },
    };
  }
}
