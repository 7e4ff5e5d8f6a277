import { dnsNameShape, shannonBits } from './entropy';
import { emptyRaw, rawVector, scaleTraffic } from './featureVector';
import type { Periodicity } from './periodicity';

/**
 * One row of a window being built: the remote ends of one process (or of no process), their
 * traffic and the DNS names it relied on, folded into the raw feature values.
 */

export type Direction = 'out' | 'in';

/** One remote end of a row in a window, with what an explanation will name. */
export interface TrafficEndpoint {
  /** remote_endpoints.id, when a scan saw a socket to it (capture alone may have seen it). */
  endpointId: number | null;
  proto: string;
  address: string;
  /** The peer's port for an outbound connection; 0 for peers of a local listener. */
  port: number;
  direction: Direction;
  /** The name a captured DNS answer gave the address. */
  name: string | null;
  newForProcess: boolean;
  /** First talked with by this process within the last hour (RECENT_MS), or in this window. */
  recentForProcess: boolean;
  newAnywhere: boolean;
  /** When any process, and this one, was first seen talking with it by the socket table (null: not before). */
  firstSeenAt: number | null;
  firstSeenByProcessAt: number | null;
  /** Most sockets to it in one round of the window. */
  sockets: number;
  /** Times a connection to it began in the window. */
  opened: number;
  halfOpen: boolean;
  /** Start of the longest unchanged span of sockets to it that reaches into the window. */
  heldSince: number | null;
  /** The listener ports a peer came in on. */
  localPorts: number[];
  bytesOut: number;
  bytesIn: number;
  packetsOut: number;
  packetsIn: number;
  periodicity: Periodicity;
}

export interface DnsNameFact {
  name: string;
  lookups: number;
  failed: number;
}

/** A remote address that tried to connect to this host in the window (host-wide row). */
export interface ProbeFact {
  remoteAddress: string;
  /** Distinct local ports it sent a connection attempt (SYN) to. */
  localPorts: number;
  /** Of those, ports with no listener. */
  closedPorts: number;
}

export interface TrafficRow {
  /** processes.id; null for the host-wide row. */
  processId: number | null;
  process: { name: string | null; exe: string | null; user: string | null } | null;
  pids: number[];
  /** Scaled, in TRAFFIC_FEATURES order. */
  features: Float32Array;
  /** Unscaled, same order. */
  raw: Float64Array;
  endpoints: TrafficEndpoint[];
  /** Endpoints left out of `endpoints` by maxEndpointFacts. */
  endpointsOmitted: number;
  dnsNames: DnsNameFact[];
  probes: ProbeFact[];
}

/** What one (owner, remote end, direction) contributed to a window. */
export interface PairWindow {
  fact: TrafficEndpoint;
  /** Sockets summed over the window's rounds. */
  socketRounds: number;
  pids: number[];
  /** How long the longest span reaching into the window had been held by then, seconds. */
  heldS: number | null;
  /** Outbound attempts capture saw unanswered; peers' attempts on a listener never completed. */
  failed: number;
  inboundAttempts: number;
  /** Whether the pair is a remote end (TCP or UDP) rather than volume of another protocol. */
  talks: boolean;
}

const MAX_DNS_FACTS = 32;
const MAX_PROBE_FACTS = 10;

/** Most telling first: new, then rhythmic, then by volume. */
function rank(e: TrafficEndpoint): number[] {
  return [e.newForProcess ? 1 : 0, e.newAnywhere ? 1 : 0, e.periodicity.score, e.bytesOut + e.bytesIn, e.sockets + e.opened];
}

function byRank(a: TrafficEndpoint, b: TrafficEndpoint): number {
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return (rb[i] as number) - (ra[i] as number);
  return 0;
}

export class RowBuilder {
  private readonly pids = new Set<number>();
  private readonly endpoints: TrafficEndpoint[] = [];
  private socketRounds = 0;
  private opened = 0;
  private readonly outEnds = new Set<string>();
  private readonly peers = new Set<string>();
  private readonly ports = new Map<number, number>();
  private newForProcess = 0;
  private newAnywhere = 0;
  private halfOpen = 0;
  private readonly held: number[] = [];
  private periodicity = 0;
  private recentPeriodicity = 0;
  private bytesOut = 0;
  private bytesOutRecent = 0;
  private bytesIn = 0;
  private packetsOut = 0;
  private packetsIn = 0;
  private failed = 0;
  private inboundAttempts = 0;
  /** Names of the remote ends talked with: the DNS lookups this traffic relied on. */
  readonly reliedNames = new Set<string>();
  private readonly lookups = new Map<string, { queries: number; responses: number; failed: number }>();
  /** Host-wide row only. */
  closedAttempts = 0;
  probes: ProbeFact[] = [];

  add(p: PairWindow): void {
    const e = p.fact;
    for (const pid of p.pids) this.pids.add(pid);
    this.socketRounds += p.socketRounds;
    this.bytesOut += e.bytesOut;
    if (e.recentForProcess) this.bytesOutRecent += e.bytesOut;
    this.bytesIn += e.bytesIn;
    this.packetsOut += e.packetsOut;
    this.packetsIn += e.packetsIn;
    this.failed += p.failed;
    this.inboundAttempts += p.inboundAttempts;
    if (!p.talks) return;
    this.endpoints.push(e);
    this.opened += e.opened;
    if (e.direction === 'out') {
      const key = `${e.proto}|${e.address}|${e.port}`;
      if (!this.outEnds.has(key)) {
        this.outEnds.add(key);
        this.ports.set(e.port, (this.ports.get(e.port) ?? 0) + 1);
      }
    } else this.peers.add(`${e.proto}|${e.address}`);
    if (e.newForProcess) this.newForProcess++;
    if (e.newAnywhere) this.newAnywhere++;
    if (e.halfOpen) this.halfOpen++;
    if (p.heldS !== null) this.held.push(p.heldS);
    this.periodicity = Math.max(this.periodicity, e.periodicity.score);
    if (e.recentForProcess) this.recentPeriodicity = Math.max(this.recentPeriodicity, e.periodicity.score);
    if (e.name !== null) this.reliedNames.add(e.name);
  }

  dns(name: string, response: boolean, failed: boolean): void {
    const l = this.lookups.get(name) ?? { queries: 0, responses: 0, failed: 0 };
    if (response) l.responses++;
    else l.queries++;
    if (failed) l.failed++;
    this.lookups.set(name, l);
  }

  finish(processId: number | null, process: TrafficRow['process'], captureShare: number, rounds: number, maxEndpointFacts: number): TrafficRow {
    const raw = emptyRaw();
    raw.host = processId === null ? 1 : 0;
    raw.capture = captureShare;
    raw.sockets = rounds > 0 ? this.socketRounds / rounds : 0;
    raw.opened = this.opened;
    raw.endpoints = this.outEnds.size;
    raw.accepted_peers = this.peers.size;
    raw.new_for_process = this.newForProcess;
    const ends = this.outEnds.size + this.peers.size;
    raw.new_for_process_share = ends > 0 ? this.newForProcess / ends : 0;
    raw.new_anywhere = this.newAnywhere;
    raw.remote_ports = this.ports.size;
    raw.remote_port_entropy = shannonBits(this.ports.values());
    raw.half_open = this.halfOpen;
    raw.duration_mean = this.held.length > 0 ? this.held.reduce((a, b) => a + b, 0) / this.held.length : 0;
    raw.duration_max = this.held.reduce((a, b) => Math.max(a, b), 0);
    raw.periodicity = this.periodicity;
    raw.recent_periodicity = this.recentPeriodicity;
    raw.bytes_out = this.bytesOut;
    raw.bytes_out_recent = this.bytesOutRecent;
    raw.bytes_in = this.bytesIn;
    raw.packets_out = this.packetsOut;
    raw.packets_in = this.packetsIn;
    raw.out_share = this.bytesOut + this.bytesIn > 0 ? this.bytesOut / (this.bytesOut + this.bytesIn) : 0;
    raw.failed_attempts = this.failed;
    raw.inbound_attempts = this.inboundAttempts;

    // Every name the row relied on, whether its lookup fell in this window or earlier.
    const names = new Set([...this.reliedNames, ...this.lookups.keys()]);
    const dnsNames: (DnsNameFact & { bits: number })[] = [];
    let lookups = 0;
    let failed = 0;
    let labelSum = 0;
    let entropySum = 0;
    for (const name of names) {
      const l = this.lookups.get(name);
      // A lookup is a question, or an answer whose question capture did not keep.
      const n = l ? Math.max(l.queries, l.responses) : 0;
      lookups += n;
      failed += l?.failed ?? 0;
      const shape = dnsNameShape(name);
      labelSum += shape.longestLabel;
      entropySum += shape.entropyBits;
      raw.dns_label_max = Math.max(raw.dns_label_max, shape.longestLabel);
      raw.dns_entropy_max = Math.max(raw.dns_entropy_max, shape.entropyBits);
      dnsNames.push({ name, lookups: n, failed: l?.failed ?? 0, bits: shape.entropyBits });
    }
    raw.dns_lookups = lookups;
    raw.dns_names = names.size;
    raw.dns_failed = failed;
    raw.dns_label_mean = names.size > 0 ? labelSum / names.size : 0;
    raw.dns_entropy_mean = names.size > 0 ? entropySum / names.size : 0;
    raw.closed_port_attempts = this.closedAttempts;
    raw.max_ports_one_source = this.probes.reduce((m, p) => Math.max(m, p.localPorts), 0);

    const endpoints = [...this.endpoints].sort(byRank);
    return {
      processId,
      process,
      pids: [...this.pids].sort((a, b) => a - b),
      features: scaleTraffic(raw),
      raw: rawVector(raw),
      endpoints: endpoints.slice(0, maxEndpointFacts),
      endpointsOmitted: Math.max(0, endpoints.length - maxEndpointFacts),
      // Failed and random-looking names first: what a tunnel or a generated domain leaves behind.
      dnsNames: dnsNames
        .sort((a, b) => b.failed - a.failed || b.bits - a.bits || b.lookups - a.lookups || a.name.localeCompare(b.name))
        .slice(0, MAX_DNS_FACTS)
        .map(({ name, lookups: n, failed: f }) => ({ name, lookups: n, failed: f })),
      probes: [...this.probes].sort((a, b) => b.localPorts - a.localPorts || a.remoteAddress.localeCompare(b.remoteAddress)).slice(0, MAX_PROBE_FACTS),
    };
  }
}
