/**
 * A host's rounds written into a real SQLite file through the real stores, as the monitor writes
 * them: the round (listeners and connected sockets) first, then what capture saw since the
 * round before, with this round's and the previous round's connections to name the processes.
 */
import type { CaptureReport, DnsEvent } from '../../../../../src/main/engine/collect/capture/captureSummary';
import type { Flow } from '../../../../../src/main/engine/collect/capture/flows';
import type { PacketRecord } from '../../../../../src/main/engine/collect/capture/packetSample';
import { countConnections, type ConnectionEntry, type SocketEntry } from '../../../../../src/main/engine/collect/sockets/types';
import { CaptureStore } from '../../../../../src/main/engine/store/captureStore';
import type { Db } from '../../../../../src/main/engine/store/database';
import { ResolvedNames } from '../../../../../src/main/engine/store/resolvedNames';
import { RoundStore } from '../../../../../src/main/engine/store/rounds';
import { openTestDb } from '../../../../support/db';

export const ME = '192.168.1.20';
export const RESOLVER = '192.168.1.1';
export const T0 = Date.UTC(2026, 11, 7, 8, 0);
export const ROUND_MS = 60_000;
export const SYN = 0x02;
export const RST = 0x04;
export const ACK = 0x10;

export type Owner = Pick<ConnectionEntry, 'pid' | 'process' | 'exe' | 'user'>;
export const firefox: Owner = { pid: 2100, process: 'firefox', exe: '/usr/lib/firefox/firefox', user: 'ann' };
export const curl: Owner = { pid: 3300, process: 'curl', exe: '/usr/bin/curl', user: 'ann' };
export const python: Owner = { pid: 4121, process: 'python3', exe: '/usr/bin/python3.12', user: 'ann' };
export const updater: Owner = { pid: 5150, process: 'updater', exe: '/usr/libexec/updater', user: 'root' };
export const nobody: Owner = { pid: null, process: null, exe: null, user: null };
export const sshdListener: SocketEntry = { proto: 'tcp', family: 4, address: '0.0.0.0', port: 22, pid: 812, process: 'sshd', exe: '/usr/sbin/sshd', user: 'root' };

export interface RoundTraffic {
  flows?: Flow[];
  packets?: PacketRecord[];
  dns?: DnsEvent[];
}

const counters = { seen: 0, decoded: 0, malformed: 0, truncated: 0, kernelDrops: null, batches: 0, callbackErrors: 0 };

export class RecordedHost {
  readonly db: Db;
  private readonly rounds: RoundStore;
  private readonly capture: CaptureStore;
  private previous: ConnectionEntry[] = [];
  private nextPort = 40_000;

  constructor() {
    this.db = openTestDb().db;
    const names = new ResolvedNames();
    this.rounds = new RoundStore(this.db, names);
    this.capture = new CaptureStore(this.db, names);
  }

  /** An outbound connection of `owner` (a new local port each time). */
  conn(owner: Owner, remoteAddress: string, remotePort: number, extra: Partial<ConnectionEntry> = {}): ConnectionEntry {
    return { proto: 'tcp', family: 4, localAddress: ME, localPort: this.nextPort++, remoteAddress, remotePort, state: 'established', ...owner, ...extra };
  }

  /**
   * Round `i` (started at T0 + i minutes) with its connected sockets and listeners; `traffic`:
   * what capture saw in the minute before it, 'off' for capture off, nothing for no capture row.
   */
  round(i: number, connected: ConnectionEntry[], traffic?: RoundTraffic | 'off', listeners: SocketEntry[] = []): number {
    const startedAt = T0 + i * ROUND_MS;
    const id = this.rounds.record({ host: 'box', startedAt, endedAt: startedAt + 5, outcome: { sockets: listeners, connections: countConnections([]), connected } });
    if (traffic === 'off') this.capture.record(id, { state: 'off', iface: 'eth0', message: 'packet capture is off: permission denied on eth0' });
    else if (traffic) this.capture.record(id, { state: 'on', iface: 'eth0', report: report(startedAt, traffic) }, { current: connected, previous: this.previous });
    this.previous = connected;
    return id;
  }
}

function report(to: number, t: RoundTraffic): CaptureReport {
  const packets = t.packets ?? [];
  return {
    from: to - ROUND_MS,
    to,
    flows: { flows: t.flows ?? [], unattributed: { packets: 0, bytes: 0 }, overflow: { packets: 0, bytes: 0 } },
    dns: t.dns ?? [],
    dnsOverflow: 0,
    malformed: {},
    sample: { packets, seen: packets.length, dns: packets.filter((p) => p.dnsQuery !== null).length, dnsDropped: 0 },
    malformedCount: 0,
    counters,
  };
}

/** One direction of a connection's traffic in a round. */
export function flow(o: { proto?: string; localPort: number | null; remoteAddr: string; remotePort: number | null; direction: 'outbound' | 'inbound'; packets?: number; bytes?: number; ts: number; flags?: number }): Flow {
  return {
    proto: o.proto ?? 'tcp',
    localAddr: ME,
    localPort: o.localPort,
    remoteAddr: o.remoteAddr,
    remotePort: o.remotePort,
    direction: o.direction,
    packets: o.packets ?? 1,
    bytes: o.bytes ?? 60,
    firstTs: o.ts,
    lastTs: o.ts,
    tcpFlags: o.flags ?? 0,
  };
}

/**
 * A lookup through the resolver: the query, and the answer (an address) or a failure code,
 * as the packet sample stores them and as the DNS events name remote ends.
 */
export function lookup(name: string, answer: string | { rcode: string }, ts: number, localPort = 53_000, server = RESOLVER): { packets: PacketRecord[]; dns: DnsEvent[] } {
  const udp = { protocols: 'eth:ipv4:udp:dns', proto: 'udp', length: 90, tcpFlags: null };
  const ok = typeof answer === 'string';
  const query: PacketRecord = { ...udp, ts, srcAddr: ME, srcPort: localPort, dstAddr: server, dstPort: 53, dnsQuery: name, dnsAnswer: null, dnsRcode: null };
  const response: PacketRecord = { ...udp, ts: ts + 20, srcAddr: server, srcPort: 53, dstAddr: ME, dstPort: localPort, dnsQuery: name, dnsAnswer: ok ? answer : null, dnsRcode: ok ? 'NOERROR' : answer.rcode };
  const event: DnsEvent = {
    ts: ts + 20,
    proto: 'udp',
    srcAddr: server,
    dstAddr: ME,
    srcPort: 53,
    dstPort: localPort,
    dns: { isResponse: true, rcode: ok ? 'NOERROR' : answer.rcode, queries: [name], answers: ok ? [{ name, type: 'A', data: answer }] : [], partial: false },
  };
  return { packets: [query, response], dns: [event] };
}
