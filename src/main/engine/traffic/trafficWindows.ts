import type { Db } from '../store/database';
import { plainAddress } from '../store/resolvedNames';
import { normalizeName } from './entropy';
import { periodicity } from './periodicity';
import { TrafficQueries, type FlowRow, type KnownNameRow, type LookBackFlow, type NameLookup, type RoundRow, type SpanRow } from './trafficQueries';
import { RowBuilder, type Direction, type PairWindow, type TrafficRow } from './trafficRow';

/**
 * Traffic features per (process, window of rounds), read straight from SQLite: a window is
 * `windowRounds` consecutive rounds, and it gets one row per process identity that talked in it
 * plus one host-wide row for the traffic no process owns. The vector's order and meaning are in
 * featureVector.ts and docs/detection.md ("Traffic features").
 *
 * A process is a processes row: the identity (name, exe, user) that connection spans and flows
 * already point at, not a pid. A browser restarted ten times a day is one process with ten pids
 * and one history, which is what "never talked to this host before" must be measured against; a
 * pid is reused by unrelated programs and would make every restart look new. The pids travel as
 * facts for the explanation ("python3 (pid 4121)").
 *
 * Everything is a function of the rounds up to the window's end and of the look-back before
 * its start: the same window reads the same whatever batch it is read in.
 */

export interface TrafficWindowOptions {
  fromRoundId: number;
  /** Inclusive. */
  toRoundId: number;
  /** Rounds per window (a round is a minute in real use). */
  windowRounds: number;
  /** How far back periodicity, and the new-ness of remote ends only capture saw, look. Default 6 hours. */
  historyMs?: number;
  /** Windows read per batch of queries. Default 24. */
  windowsPerBatch?: number;
  /** Endpoint facts kept per row, the most telling first. Default 64. */
  maxEndpointFacts?: number;
}

export const DEFAULT_HISTORY_MS = 6 * 3600_000;

export interface TrafficWindow {
  firstRoundId: number;
  lastRoundId: number;
  startedAt: number;
  endedAt: number;
  rounds: number;
  /** False for a last window with fewer than windowRounds rounds (read it again once it fills). */
  complete: boolean;
  /** Rounds of the window with packet capture on. */
  captureRounds: number;
  /** The host-wide row first, then processes by id. */
  rows: TrafficRow[];
}

/** Rounds in a traffic window: ten one-minute rounds. */
export const TRAFFIC_WINDOW_ROUNDS = 10;

/** Reads every window of the range; iterateTrafficWindows gives them a batch at a time. */
export function readTrafficWindows(db: Db, options: TrafficWindowOptions): TrafficWindow[] {
  const out: TrafficWindow[] = [];
  for (const batch of iterateTrafficWindows(db, options)) out.push(...batch);
  return out;
}

/** The windows of the range, one batch (a fixed number of queries) at a time. */
export function* iterateTrafficWindows(db: Db, options: TrafficWindowOptions): Generator<TrafficWindow[]> {
  if (!Number.isInteger(options.windowRounds) || options.windowRounds < 1) throw new RangeError(`windowRounds must be a whole number >= 1, got ${options.windowRounds}`);
  const q = new TrafficQueries(db);
  const rounds = q.windowRounds(options.fromRoundId, options.toRoundId);
  const windows: RoundRow[][] = [];
  for (let i = 0; i < rounds.length; i += options.windowRounds) windows.push(rounds.slice(i, i + options.windowRounds));
  const perBatch = Math.max(1, options.windowsPerBatch ?? 24);
  for (let i = 0; i < windows.length; i += perBatch) yield readBatch(q, windows.slice(i, i + perBatch), options);
}

const SYN = 0x02;
const ACK = 0x10;
const HALF_OPEN = new Set(['syn-sent', 'syn-recv']);

/** One (owner, remote end, direction) over the batch's rounds. */
interface Pair {
  key: string;
  owner: number | null;
  epKey: string;
  proto: string;
  address: string;
  port: number;
  direction: Direction;
  spans: SpanRow[];
  /** Round positions in which the owner had a socket to it. */
  present: Uint8Array;
  /** Positions, and times, of the connection openings (SYN) capture saw. */
  synPos: number[];
  synTs: number[];
}

/** What the socket table knows of a remote end (proto|address|port). */
interface EndpointInfo {
  id: number | null;
  firstSeenAt: number | null;
  name: string | null;
  /** Per owner: the first round, and time, it talked with this end. */
  owners: Map<number, { round: number; at: number }>;
}

/** Per (window, pair): what capture saw. */
interface PairTraffic {
  bytesOut: number;
  bytesIn: number;
  packetsOut: number;
  packetsIn: number;
  failed: number;
  inboundAttempts: number;
}

interface WindowTraffic {
  pairs: Map<string, PairTraffic>;
  closedAttempts: number;
  /** Per remote address: the local ports it sent a SYN to, and those with no listener. */
  probes: Map<string, { ports: Set<number>; closed: Set<number> }>;
}

const pairKeyOf = (owner: number | null, epKey: string, direction: Direction): string => `${owner ?? ''}#${epKey}#${direction}`;
const endpointKeyOf = (proto: string, address: string, port: number): string => `${proto}|${plainAddress(address)}|${port}`;
const ownedKey = (owner: number | null, epKey: string): string => `${owner ?? ''}#${epKey}`;
const nameKeyOf = (name: string, proto: string, port: number, owner: number | null): string => `${owner ?? ''}#${proto}|${name}|${port}`;
/** A peer's connection attempt is told by its (address, port) and the local port it tried. */
const probeKeyOf = (remoteAddr: string, remotePort: number | null, localPort: number | null): string => `${remoteAddr}|${remotePort}|${localPort}`;
/** A peer's connection attempt: its SYN without an ACK from it in the round (flows and look-back rows alike). */
const isPeerAttempt = (proto: string, direction: string, tcpFlags: number): boolean => proto === 'tcp' && direction === 'inbound' && (tcpFlags & SYN) !== 0 && (tcpFlags & ACK) === 0;

/** Round positions of a batch: 0 is the round before the earliest look-back, the windows come last. */
class Positions {
  private readonly index: Map<number, number>;
  readonly startedAt: number[];

  constructor(readonly rounds: RoundRow[]) {
    this.index = new Map(rounds.map((r, i) => [r.id, i]));
    this.startedAt = rounds.map((r) => r.startedAt);
  }

  get firstId(): number {
    return this.rounds[0]!.id;
  }

  get lastId(): number {
    return this.rounds[this.rounds.length - 1]!.id;
  }

  /** Position of a round; -1 before the batch's rounds, the last position after them. */
  of(roundId: number): number {
    const p = this.index.get(roundId);
    if (p !== undefined) return p;
    return roundId < this.firstId ? -1 : this.rounds.length - 1;
  }

  /** First position whose round started at or after `t`. */
  firstFrom(t: number): number {
    let lo = 0;
    let hi = this.startedAt.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.startedAt[mid] as number) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function readBatch(q: TrafficQueries, windows: RoundRow[][], options: TrafficWindowOptions): TrafficWindow[] {
  const historyMs = options.historyMs ?? DEFAULT_HISTORY_MS;
  const maxFacts = options.maxEndpointFacts ?? 64;
  const first = windows[0]![0]!;
  const lastWindow = windows[windows.length - 1]!;
  const last = lastWindow[lastWindow.length - 1]!;
  const at = new Positions(q.historyRounds(first.startedAt - historyMs, first.id, last.id));
  const ranges = windows.map((w) => ({ from: at.of(w[0]!.id), to: at.of(w[w.length - 1]!.id) }));
  const windowAt = new Int32Array(at.rounds.length).fill(-1);
  ranges.forEach((r, w) => windowAt.fill(w, r.from, r.to + 1));
  const capture = q.captureOn(first.id, last.id);

  const pairs = new Map<string, Pair>();
  const endpoints = new Map<string, EndpointInfo>();
  const pairOf = (owner: number | null, proto: string, address: string, port: number, direction: Direction): Pair => {
    const epKey = endpointKeyOf(proto, address, port);
    const key = pairKeyOf(owner, epKey, direction);
    let p = pairs.get(key);
    if (!p) {
      p = { key, owner, epKey, proto, address: plainAddress(address), port, direction, spans: [], present: new Uint8Array(at.rounds.length), synPos: [], synTs: [] };
      pairs.set(key, p);
    }
    return p;
  };
  const knowOwner = (info: EndpointInfo, owner: number | null, round: number | null, seenAt: number | null) => {
    if (owner === null || round === null) return;
    const known = info.owners.get(owner);
    if (!known || round < known.round) info.owners.set(owner, { round, at: seenAt ?? info.firstSeenAt ?? 0 });
  };
  const knowEndpoint = (epKey: string, id: number, firstSeenAt: number, name: string | null): EndpointInfo => {
    const info = endpoints.get(epKey) ?? { id, firstSeenAt, name, owners: new Map() };
    info.firstSeenAt = Math.min(info.firstSeenAt ?? Infinity, firstSeenAt);
    info.name ??= name;
    endpoints.set(epKey, info);
    return info;
  };

  // The socket table: spans by (owner, remote end, direction). Those of the windows make the
  // batch's pairs; spans and flows of the look-back alone only add to those pairs (their
  // openings, for the rhythm, and whether capture saw them before), since only pairs present in
  // a window are ever scored: a busy machine's six hours hold tens of thousands of others.
  const lookBackSpans: SpanRow[] = [];
  const addSpan = (p: Pair, s: SpanRow) => {
    p.spans.push(s);
    p.present.fill(1, Math.max(0, at.of(s.first)), at.of(Math.min(s.last, last.id)) + 1);
    knowOwner(knowEndpoint(p.epKey, s.endpointId, s.endpointFirstSeenAt, s.name), s.processId, s.ownerFirstRound, s.ownerFirstSeenAt);
  };
  for (const s of q.spans(at.firstId, last.id)) {
    if (s.last < first.id) lookBackSpans.push(s);
    else addSpan(pairOf(s.processId, s.proto, s.address, s.port, s.direction), s);
  }

  // Capture: flows, a round at a time (a probe is told by its flows in both directions).
  const traffic: WindowTraffic[] = windows.map(() => ({ pairs: new Map(), closedAttempts: 0, probes: new Map() }));
  /** Positions at which capture saw each remote end, and each (owner, remote end). */
  const flowSeen = new Map<string, number[]>();
  const seen = (key: string, p: number) => {
    const list = flowSeen.get(key);
    if (!list) flowSeen.set(key, [p]);
    else if (list[list.length - 1] !== p) list.push(p);
  };
  const flowOnly = new Map<string, { proto: string; address: string; port: number; owners: Set<number | null> }>();
  const classify = (rows: FlowRow[]) => {
    const p = at.of(rows[0]!.roundId);
    const w = windowAt[p] ?? -1;
    const probeKey = (f: FlowRow) => probeKeyOf(f.remoteAddr, f.remotePort, f.localPort);
    const probes = new Set<string>();
    const probing = new Set<string>();
    for (const f of rows) {
      if (!isPeerAttempt(f.proto, f.direction, f.tcpFlags)) continue;
      probes.add(probeKey(f));
      probing.add(f.remoteAddr);
    }
    for (const f of rows) {
      const talks = f.proto === 'tcp' || f.proto === 'udp';
      const syn = f.proto === 'tcp' && (f.tcpFlags & SYN) !== 0;
      const probe = probing.has(f.remoteAddr) && probes.has(probeKey(f));
      // Peers of a local socket (a listener, a bound UDP port) and probes are kept by address, as
      // the socket table keeps accepted connections; the rest are connections this host opened.
      const direction: Direction = f.portId !== null || probe ? 'in' : 'out';
      const port = !talks || direction === 'in' ? 0 : (f.remotePort ?? 0);
      const pair = pairOf(f.processId, f.proto, f.remoteAddr, port, talks ? direction : 'out');
      if (talks) {
        seen(pair.epKey, p);
        seen(ownedKey(f.processId, pair.epKey), p);
        if (syn && (direction === 'out') === (f.direction === 'outbound')) {
          pair.synPos.push(p);
          pair.synTs.push(f.firstTs);
        }
      }
      if (w < 0) continue;
      const t = traffic[w]!;
      const acc = t.pairs.get(pair.key) ?? { bytesOut: 0, bytesIn: 0, packetsOut: 0, packetsIn: 0, failed: 0, inboundAttempts: 0 };
      t.pairs.set(pair.key, acc);
      if (f.direction === 'outbound') {
        acc.bytesOut += f.bytes;
        acc.packetsOut += f.packets;
      } else {
        acc.bytesIn += f.bytes;
        acc.packetsIn += f.packets;
      }
      if (!talks) continue;
      if (!endpoints.has(pair.epKey)) {
        const k = flowOnly.get(pair.epKey) ?? { proto: f.proto, address: pair.address, port, owners: new Set() };
        k.owners.add(f.processId);
        flowOnly.set(pair.epKey, k);
      }
      if (syn && direction === 'out' && f.direction === 'outbound' && (f.tcpFlags & ACK) === 0) acc.failed += 1;
      if (probe && f.direction === 'inbound') {
        if (f.portId !== null) acc.inboundAttempts += 1;
        else t.closedAttempts += 1;
      }
      if (syn && f.direction === 'inbound' && f.localPort !== null) {
        const source = t.probes.get(pair.address) ?? { ports: new Set(), closed: new Set() };
        source.ports.add(f.localPort);
        if (probe && f.portId === null) source.closed.add(f.localPort);
        t.probes.set(pair.address, source);
      }
    }
  };
  for (const round of q.flows(first.id, last.id)) classify(round);

  // The look-back, for the pairs of the windows only.
  for (const s of lookBackSpans) {
    const p = pairs.get(pairKeyOf(s.processId, endpointKeyOf(s.proto, s.address, s.port), s.direction));
    if (p) addSpan(p, s);
  }
  const watched = new Set<string>();
  for (const p of pairs.values()) {
    watched.add(p.epKey);
    watched.add(ownedKey(p.owner, p.epKey));
    // Traffic no process was named for: it may have been this pair's owner's (below).
    watched.add(ownedKey(null, p.epKey));
  }
  if (at.firstId < first.id) {
    // Read after the windows, but earlier in time: kept apart, then put before what the windows saw.
    const earlierSeen = new Map<string, number[]>();
    const earlierSyns = new Map<Pair, { pos: number[]; ts: number[] }>();
    const sawEarlier = (key: string, p: number) => {
      const list = earlierSeen.get(key);
      if (!list) earlierSeen.set(key, [p]);
      else if (list[list.length - 1] !== p) list.push(p);
    };
    const addresses = new Set<string>();
    for (const p of pairs.values()) {
      addresses.add(p.address);
      // The socket table may write an IPv4 peer of a dual-stack socket as ::ffff:a.b.c.d.
      if (!p.address.includes(':')) addresses.add(`::ffff:${p.address}`);
    }
    const handle = (rows: LookBackFlow[]) => {
      const p = at.of(rows[0]![0]);
      const probeKey = (f: LookBackFlow) => probeKeyOf(f[3], f[4], f[2]);
      const probes = new Set<string>();
      // The probes' addresses, so that a flow from any other (nearly all) costs no key.
      const probing = new Set<string>();
      for (const f of rows) {
        if (!isPeerAttempt(f[1], f[5], f[7])) continue;
        probes.add(probeKey(f));
        probing.add(f[3]);
      }
      for (const f of rows) {
        const [, proto, , remoteAddr, remotePort, flowDirection, firstTs, tcpFlags, owned, processId] = f;
        const direction: Direction = owned === 1 || (probing.has(remoteAddr) && probes.has(probeKey(f))) ? 'in' : 'out';
        const epKey = endpointKeyOf(proto, remoteAddr, direction === 'in' ? 0 : (remotePort ?? 0));
        if (watched.has(epKey)) sawEarlier(epKey, p);
        const ownedBy = ownedKey(processId, epKey);
        if (watched.has(ownedBy)) sawEarlier(ownedBy, p);
        const pair = proto === 'tcp' && (tcpFlags & SYN) !== 0 ? pairs.get(pairKeyOf(processId, epKey, direction)) : undefined;
        if (pair && (direction === 'out') === (flowDirection === 'outbound')) {
          const syns = earlierSyns.get(pair) ?? { pos: [], ts: [] };
          earlierSyns.set(pair, syns);
          syns.pos.push(p);
          syns.ts.push(firstTs);
        }
      }
    };
    for (const round of q.lookBackFlows(at.firstId, first.id - 1, [...addresses])) handle(round);
    for (const [key, list] of earlierSeen) flowSeen.set(key, [...list, ...(flowSeen.get(key) ?? [])]);
    for (const [pair, syns] of earlierSyns) {
      pair.synPos = [...syns.pos, ...pair.synPos];
      pair.synTs = [...syns.ts, ...pair.synTs];
    }
  }

  // Remote ends only capture saw in the windows: the socket table may know them from earlier.
  const lookups = [...flowOnly].flatMap(([key, k]) => [...k.owners].map((owner) => ({ key, proto: k.proto, address: k.address, port: k.port, processId: owner })));
  for (const r of q.knownEndpoints(lookups)) knowOwner(knowEndpoint(r.key, r.id, r.firstSeenAt, r.name), r.processId, r.ownerFirstRound, r.ownerFirstSeenAt);

  // DNS: answers name the remote ends only capture saw; messages are counted per window below.
  const dnsRows = q.dns(at.firstId, last.id);
  const answered = new Map<string, { pos: number; name: string }[]>();
  for (const d of dnsRows) {
    const name = normalizeName(d.query.split(',')[0] ?? '');
    if (d.answer === null || !name) continue;
    for (const a of d.answer.split(',')) {
      const address = plainAddress(a);
      const list = answered.get(address);
      if (list) list.push({ pos: at.of(d.roundId), name });
      else answered.set(address, [{ pos: at.of(d.roundId), name }]);
    }
  }

  // Names: whether the owner (or any process) talked to a remote end of the same name, protocol
  // and port before, at another address. One destination served from several addresses (a CDN,
  // round-robin DNS, a server's IPv4 and IPv6) is not a new host at each of them.
  const nameLookups = new Map<string, NameLookup>();
  for (const p of pairs.values()) {
    if (p.direction !== 'out') continue;
    const name = endpoints.get(p.epKey)?.name ?? answered.get(p.address)?.at(-1)?.name ?? null;
    if (name !== null) nameLookups.set(nameKeyOf(name, p.proto, p.port, p.owner), { name, proto: p.proto, port: p.port, processId: p.owner });
  }
  const names = new Map(q.knownNames([...nameLookups.values()]).map((r) => [nameKeyOf(r.name, r.proto, r.port, r.processId), r]));

  const ids = new Set<number>();
  for (const p of pairs.values()) if (p.owner !== null) ids.add(p.owner);
  for (const d of dnsRows) if (d.processId !== null) ids.add(d.processId);
  const processes = new Map(q.processes([...ids]).map((r) => [r.id, r]));

  return windows.map((w, wi) => {
    const range = ranges[wi]!;
    const ctx: WindowContext = {
      at,
      range,
      lookBack: at.firstFrom(w[0]!.startedAt - historyMs),
      recentFrom: at.firstFrom(w[0]!.startedAt - RECENT_MS),
      lastId: last.id,
      windowStart: w[0]!.startedAt,
      firstRoundId: w[0]!.id,
      flowSeen,
      endpoints,
      answered,
      names,
    };
    const t = traffic[wi]!;
    const rows = new Map<number | null, RowBuilder>([[null, new RowBuilder()]]);
    const rowOf = (owner: number | null): RowBuilder => {
      let r = rows.get(owner);
      if (!r) rows.set(owner, (r = new RowBuilder()));
      return r;
    };
    for (const pair of pairs.values()) {
      const pw = pairInWindow(pair, t.pairs.get(pair.key), ctx);
      if (pw) rowOf(pair.owner).add(pw);
    }

    // DNS messages of the window go to the process the packet names, else to the processes
    // whose remote ends carry the name, else to the host-wide row.
    const byName = new Map<string, number[]>();
    for (const [owner, r] of rows) {
      if (owner === null) continue;
      for (const name of r.reliedNames) {
        const owners = byName.get(name);
        if (owners) owners.push(owner);
        else byName.set(name, [owner]);
      }
    }
    for (const d of dnsRows) {
      const p = at.of(d.roundId);
      if (p < range.from || p > range.to) continue;
      // Rows stored before the response code was kept: an answer is what came from port 53.
      const response = d.rcode !== null || d.srcPort === 53;
      const failed = d.rcode !== null && d.rcode !== 'NOERROR';
      for (const raw of d.query.split(',')) {
        const name = normalizeName(raw);
        if (!name) continue;
        for (const owner of d.processId !== null ? [d.processId] : (byName.get(name) ?? [null])) rowOf(owner).dns(name, response, failed);
      }
    }

    const host = rows.get(null)!;
    host.closedAttempts = t.closedAttempts;
    host.probes = [...t.probes].map(([remoteAddress, s]) => ({ remoteAddress, localPorts: s.ports.size, closedPorts: s.closed.size }));
    const captureRounds = w.filter((r) => capture.has(r.id)).length;
    const lastRound = w[w.length - 1]!;
    return {
      firstRoundId: w[0]!.id,
      lastRoundId: lastRound.id,
      startedAt: w[0]!.startedAt,
      endedAt: lastRound.endedAt ?? lastRound.startedAt,
      rounds: w.length,
      complete: w.length === options.windowRounds,
      captureRounds,
      rows: [...rows]
        .sort(([a], [b]) => (a === null ? -1 : b === null ? 1 : a - b))
        .map(([owner, r]) => {
          const pr = owner === null ? undefined : processes.get(owner);
          return r.finish(owner, pr ? { name: pr.name, exe: pr.exe, user: pr.user } : null, captureRounds / w.length, w.length, maxFacts);
        }),
    };
  });
}

/** How long a remote end stays "recently new" to a process after it first talked to it (bytes_out_recent). */
export const RECENT_MS = 60 * 60_000;

interface WindowContext {
  at: Positions;
  range: { from: number; to: number };
  /** First position of the window's look-back (0 only when no round came before it). */
  lookBack: number;
  /** First position at or after RECENT_MS before the window's start. */
  recentFrom: number;
  lastId: number;
  windowStart: number;
  firstRoundId: number;
  flowSeen: Map<string, number[]>;
  endpoints: Map<string, EndpointInfo>;
  answered: Map<string, { pos: number; name: string }[]>;
  /** First sightings of the batch's names, by nameKeyOf. */
  names: Map<string, KnownNameRow>;
}

/** Whether capture saw a key in a round at a position in [from, to). */
function seenBetween(list: number[] | undefined, from: number, to: number): boolean {
  if (!list) return false;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as number) < to) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && (list[lo - 1] as number) >= from;
}

/** What a pair did in the window, or null when it was not there. */
function pairInWindow(pair: Pair, capture: PairTraffic | undefined, ctx: WindowContext): PairWindow | null {
  const { from, to } = ctx.range;
  const perRound = new Int32Array(to - from + 1);
  let halfOpen = false;
  let heldMs: number | null = null;
  let heldSince: number | null = null;
  const pids = new Set<number>();
  const localPorts = new Set<number>();
  for (const s of pair.spans) {
    const a = Math.max(from, ctx.at.of(s.first));
    const b = Math.min(to, ctx.at.of(Math.min(s.last, ctx.lastId)));
    if (a > b) continue;
    for (let i = a; i <= b; i++) perRound[i - from]! += s.count;
    if (s.pid !== null) pids.add(s.pid);
    if (s.localPort !== null) localPorts.add(s.localPort);
    if (HALF_OPEN.has(s.state)) {
      halfOpen = true;
      continue;
    }
    // How long it had been held by the last round of it in the window (at least: a change in
    // the number of sockets starts a new span).
    if (s.firstStartedAt !== null) {
      const held = (ctx.at.startedAt[b] as number) - s.firstStartedAt;
      if (heldMs === null || held > heldMs) {
        heldMs = held;
        heldSince = s.firstStartedAt;
      }
    }
  }
  let sockets = 0;
  let socketRounds = 0;
  for (const n of perRound) {
    sockets = Math.max(sockets, n);
    socketRounds += n;
  }
  if (sockets === 0 && capture === undefined) return null;

  // Openings: rounds in which a socket to it appeared, and SYNs capture saw; over the look-back
  // for the rhythm, inside the window for the count.
  let appeared = 0;
  const appearances: number[] = [];
  // An appearance needs the round before it read too (the first round ever has none).
  for (let i = Math.max(1, ctx.lookBack); i <= to; i++) {
    if (pair.present[i] === 1 && pair.present[i - 1] !== 1) {
      appearances.push(ctx.at.startedAt[i] as number);
      if (i >= from) appeared++;
    }
  }
  let syns = 0;
  const synTimes: number[] = [];
  pair.synPos.forEach((p, i) => {
    if (p < ctx.lookBack || p > to) return;
    synTimes.push(pair.synTs[i] as number);
    if (p >= from) syns++;
  });
  // Capture sees every opening, a scan only those that outlast a minute's sampling: the rhythm is
  // read from whichever saw more (never both, which would put near-zero gaps between twins).
  const period = periodicity(synTimes.length >= appearances.length ? synTimes : appearances);

  const info = ctx.endpoints.get(pair.epKey);
  let name = info?.name ?? null;
  if (name === null) for (const a of ctx.answered.get(pair.address) ?? []) if (a.pos <= to) name = a.name;
  // The name's first sightings, at any address (outbound ends only: a peer is its address).
  const byName = name === null || pair.direction !== 'out' ? undefined : ctx.names.get(nameKeyOf(name, pair.proto, pair.port, pair.owner));
  const nameSince = (t: number) => byName !== undefined && byName.anyAt < t;
  const nameMineSince = (t: number) => byName?.ownerAt != null && byName.ownerAt < t;

  const before = (key: string) => seenBetween(ctx.flowSeen.get(key), ctx.lookBack, from);
  const knownBefore = info?.firstSeenAt != null && info.firstSeenAt < ctx.windowStart;
  const newAnywhere = !knownBefore && !before(pair.epKey) && !nameSince(ctx.windowStart);
  const mine = pair.owner === null ? undefined : info?.owners.get(pair.owner);
  // Capture names a process only for connections a scan saw open; a program whose connections
  // live a fraction of a second (an NTP client, a connectivity check) is named only when a scan
  // happens to catch one. Traffic to this end that no process was named for, more than an hour
  // before the window, may well have been this process's: the end is not new to it then.
  const unnamedEarly = pair.owner !== null && seenBetween(ctx.flowSeen.get(ownedKey(null, pair.epKey)), ctx.lookBack, ctx.recentFrom);
  const newForProcess =
    pair.owner === null
      ? newAnywhere
      : !(mine !== undefined && mine.round < ctx.firstRoundId) && !before(ownedKey(pair.owner, pair.epKey)) && !nameMineSince(ctx.windowStart) && !unnamedEarly;
  // Not talked with before the last hour: by the socket table's first sighting (of the end, or of
  // its name at another address), and by capture in the look-back before that hour (a flow seen
  // only by capture has no first sighting).
  const recentStart = ctx.windowStart - RECENT_MS;
  const seenEarly = (key: string) => seenBetween(ctx.flowSeen.get(key), ctx.lookBack, ctx.recentFrom);
  const recentForProcess =
    newForProcess ||
    (pair.owner === null
      ? !(info?.firstSeenAt != null && info.firstSeenAt < recentStart) && !seenEarly(pair.epKey) && !nameSince(recentStart)
      : !(mine !== undefined && mine.at < recentStart) && !seenEarly(ownedKey(pair.owner, pair.epKey)) && !nameMineSince(recentStart) && !unnamedEarly);

  return {
    fact: {
      endpointId: info?.id ?? null,
      proto: pair.proto,
      address: pair.address,
      port: pair.port,
      direction: pair.direction,
      name,
      newForProcess,
      recentForProcess,
      newAnywhere,
      firstSeenAt: info?.firstSeenAt ?? null,
      firstSeenByProcessAt: mine?.at ?? null,
      sockets,
      opened: Math.max(appeared, syns),
      halfOpen,
      heldSince,
      localPorts: [...localPorts].sort((a, b) => a - b),
      bytesOut: capture?.bytesOut ?? 0,
      bytesIn: capture?.bytesIn ?? 0,
      packetsOut: capture?.packetsOut ?? 0,
      packetsIn: capture?.packetsIn ?? 0,
      periodicity: period,
    },
    socketRounds,
    pids: [...pids],
    heldS: heldMs === null ? null : heldMs / 1000,
    failed: capture?.failed ?? 0,
    inboundAttempts: capture?.inboundAttempts ?? 0,
    talks: pair.proto === 'tcp' || pair.proto === 'udp',
  };
}
