import type { CaptureReport, DnsEvent } from '../src/main/engine/collect/capture/captureSummary';
import type { Flow } from '../src/main/engine/collect/capture/flows';
import { DEFAULT_MAX_PACKETS_PER_ROUND, type PacketRecord } from '../src/main/engine/collect/capture/packetSample';
import { compareConnections, type ConnectionEntry } from '../src/main/engine/collect/sockets/types';
import { seededRandom } from '../src/shared/random';

/**
 * A busy machine's traffic for bench/detect.ts: what the socket table and capture show each
 * round, sized so that capture reports about `flowsPerRound` flows a round (both directions of
 * every connection with traffic, the resolver's lookups, and connections too short for any scan).
 *
 * Client programs, one process identity each, hold connections to remote ends of their own (a
 * browser hundreds, a mail client a few); each connection lives 1 to 90 rounds (log-uniform) and
 * is replaced when it ends, from the program's usual remote ends and, one time in forty, from
 * one it never used. One connection in ten opens and closes between two scans: capture sees it,
 * no scan does. Lookups go through the resolver (20 a round); their answers name the remote ends.
 * A `shell` from `from` to `to`: python3 run by www-data (a web application's interpreter, which
 * never talked out before) holding one connection to a host no program used.
 * Remote addresses are in 198.18.0.0/15, the range set aside for benchmarks.
 */
export const LOCAL = '192.168.1.10';
const RESOLVER = '192.168.1.1';

interface Program {
  pid: number;
  process: string;
  exe: string;
  user: string;
  /** Share of the machine's connections. */
  weight: number;
  /** Its usual remote ends (address, port). */
  usual: { address: string; port: number }[];
  /** Bytes a round each way on one connection: typical size. */
  bytesOut: number;
  bytesIn: number;
}

interface Live {
  program: Program;
  address: string;
  port: number;
  localPort: number;
  opened: number;
  until: number;
}

export interface BusyRound {
  connected: ConnectionEntry[];
  report: CaptureReport;
}

const PROGRAMS: [string, string, string, number, number, number, number][] = [
  // name, exe, user, weight, usual remote ends, bytes out, bytes in (a round, one connection)
  ['firefox', '/usr/lib/firefox/firefox', 'alice', 30, 600, 2_000, 60_000],
  ['chrome', '/opt/google/chrome/chrome', 'alice', 20, 400, 2_000, 50_000],
  ['slack', '/usr/lib/slack/slack', 'alice', 4, 12, 800, 3_000],
  ['thunderbird', '/usr/lib/thunderbird/thunderbird', 'alice', 2, 6, 500, 8_000],
  ['spotify', '/usr/share/spotify/spotify', 'alice', 3, 40, 600, 120_000],
  ['code', '/usr/share/code/code', 'alice', 4, 60, 1_000, 6_000],
  ['syncthing', '/usr/bin/syncthing', 'alice', 5, 20, 30_000, 30_000],
  ['dropbox', '/opt/dropbox/dropbox', 'alice', 3, 15, 20_000, 5_000],
  ['docker', '/usr/bin/dockerd', 'root', 6, 80, 3_000, 200_000],
  ['apt', '/usr/bin/apt', 'root', 2, 10, 400, 400_000],
  ['node', '/usr/bin/node', 'alice', 8, 150, 4_000, 20_000],
  ['python3', '/usr/bin/python3.12', 'alice', 4, 50, 2_000, 10_000],
  ['ssh', '/usr/bin/ssh', 'alice', 1, 5, 3_000, 3_000],
  ['zoom', '/opt/zoom/zoom', 'alice', 3, 10, 80_000, 120_000],
  ['systemd-timesyncd', '/usr/lib/systemd/systemd-timesyncd', 'systemd-timesync', 1, 4, 90, 90],
  ['snapd', '/usr/lib/snapd/snapd', 'root', 2, 8, 500, 50_000],
  ['gnome-software', '/usr/bin/gnome-software', 'alice', 1, 10, 300, 20_000],
  ['steam', '/home/alice/.steam/steam', 'alice', 4, 60, 1_000, 300_000],
  ['discord', '/usr/share/discord/Discord', 'alice', 3, 20, 1_500, 6_000],
  ['signal-desktop', '/opt/Signal/signal-desktop', 'alice', 1, 4, 300, 900],
];

/** The reverse shell of the timed hour, and where it calls. */
export const SHELL = { pid: 31_338, process: 'python3', exe: '/usr/bin/python3.12', user: 'www-data', address: '198.19.250.7', port: 4444 };

const PORTS = [443, 443, 443, 443, 443, 443, 443, 80, 8443, 22, 993, 5222];

export class BusyTraffic {
  private readonly rand: () => number;
  private readonly programs: Program[];
  private readonly totalWeight: number;
  private live: Live[] = [];
  private nextAddress = 1;
  private nextPort = 32768;
  private readonly names = new Map<string, string>();

  /**
   * `flowsPerRound`: the size. `shell`: python3 holding a line to a new host from `from` to `to`
   * (ms since the epoch), the anomaly of the timed hour.
   */
  constructor(
    seed: number,
    private readonly flowsPerRound: number,
    private readonly shell: { from: number; to: number } | null = null,
  ) {
    this.rand = seededRandom(seed);
    let pid = 20_000;
    this.programs = PROGRAMS.map(([process, exe, user, weight, usual, bytesOut, bytesIn]) => ({
      pid: pid += 1 + Math.floor(this.rand() * 400),
      process, exe, user, weight, bytesOut, bytesIn,
      usual: Array.from({ length: usual }, () => ({ address: this.newAddress(), port: PORTS[Math.floor(this.rand() * PORTS.length)]! })),
    }));
    this.totalWeight = this.programs.reduce((a, p) => a + p.weight, 0);
  }

  /** Connections alive at once: each carries traffic both ways (two flows); lookups and scan-less ones make up the rest. */
  private get target(): number {
    return Math.round((this.flowsPerRound - 40) / 2 / 1.1);
  }

  private newAddress(): string {
    const n = this.nextAddress++;
    return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
  }

  private localPort(): number {
    this.nextPort = this.nextPort >= 60999 ? 32768 : this.nextPort + 1;
    return this.nextPort;
  }

  private pick(): Program {
    let r = this.rand() * this.totalWeight;
    for (const p of this.programs) if ((r -= p.weight) < 0) return p;
    return this.programs.at(-1)!;
  }

  private open(program: Program, t: number, life: number): Live {
    const fresh = this.rand() < 1 / 40;
    const end = fresh ? { address: this.newAddress(), port: 443 } : program.usual[Math.floor(this.rand() * program.usual.length)]!;
    if (fresh) program.usual.push(end);
    return { program, address: end.address, port: end.port, localPort: this.localPort(), opened: t, until: t + life };
  }

  /** The round that starts at `t` (ms), one minute after the previous one. */
  round(t: number): BusyRound {
    const minute = 60_000;
    const from = t - minute;
    // Connections that ended during the minute before this scan still carried traffic in it.
    const carried = this.live;
    this.live = carried.filter((c) => c.until > t);
    while (this.live.length < this.target) this.live.push(this.open(this.pick(), from + this.rand() * minute, minute * Math.exp(this.rand() * Math.log(90))));
    if (this.shell && t >= this.shell.from && t < this.shell.to && !this.live.some((c) => c.program.pid === SHELL.pid)) {
      const program: Program = { ...SHELL, weight: 0, usual: [], bytesOut: 300, bytesIn: 200 };
      this.live.push({ program, address: SHELL.address, port: SHELL.port, localPort: this.localPort(), opened: t - 1000, until: this.shell.to });
    }
    const flows: Flow[] = [];
    const syns: PacketRecord[] = [];
    const withTraffic = [...new Set([...carried, ...this.live])];
    // Short connections: opened and closed between two scans, seen by capture only.
    const short = Array.from({ length: Math.round(this.target * 0.1) }, () => this.open(this.pick(), from + this.rand() * minute, 1000 + this.rand() * 20_000));
    for (const c of [...withTraffic, ...short]) {
      const a = Math.max(from, c.opened);
      const b = Math.min(t, c.until);
      if (b <= a) continue;
      const opening = c.opened >= from;
      const share = (b - a) / minute;
      const out = Math.round(c.program.bytesOut * share * (0.2 + 1.6 * this.rand()));
      const inn = Math.round(c.program.bytesIn * share * (0.2 + 1.6 * this.rand()));
      const flags = (opening ? 0x02 : 0) | 0x18 | (c.until < t ? 0x01 : 0);
      const base = { proto: 'tcp', localAddr: LOCAL, localPort: c.localPort, remoteAddr: c.address, remotePort: c.port, firstTs: a, lastTs: Math.max(a, b - 1), tcpFlags: flags };
      flows.push({ ...base, direction: 'outbound', packets: 2 + Math.ceil(out / 1400) + Math.ceil(inn / 2800), bytes: out + 66 * (2 + Math.ceil(inn / 2800)) });
      flows.push({ ...base, direction: 'inbound', packets: 1 + Math.ceil(inn / 1400), bytes: inn + 66 });
      if (opening) syns.push(packet('tcp', LOCAL, c.localPort, c.address, c.port, c.opened, 74, 0x02, null, null));
    }
    // The resolver's lookups: 20 a round, each naming one remote end of a program.
    const dns: DnsEvent[] = [];
    const lookups: PacketRecord[] = [];
    for (let i = 0; i < 20; i++) {
      const c = this.live[Math.floor(this.rand() * this.live.length)]!;
      const name = this.nameOf(c.address);
      const at = from + this.rand() * minute;
      const localPort = this.localPort();
      dns.push({ ts: at, proto: 'udp', srcAddr: LOCAL, dstAddr: RESOLVER, srcPort: localPort, dstPort: 53, dns: { isResponse: false, rcode: 'NOERROR', queries: [name], answers: [], partial: false } });
      dns.push({ ts: at + 15, proto: 'udp', srcAddr: RESOLVER, dstAddr: LOCAL, srcPort: 53, dstPort: localPort, dns: { isResponse: true, rcode: 'NOERROR', queries: [name], answers: [{ name, type: 'A', data: c.address }], partial: false } });
      lookups.push(packet('udp', LOCAL, localPort, RESOLVER, 53, at, 80, null, name, null));
      lookups.push(packet('udp', RESOLVER, 53, LOCAL, localPort, at + 15, 96, null, name, c.address, 'NOERROR'));
      const base = { proto: 'udp', localAddr: LOCAL, localPort, remoteAddr: RESOLVER, remotePort: 53, firstTs: at, lastTs: at + 15, tcpFlags: 0 };
      flows.push({ ...base, direction: 'outbound', packets: 1, bytes: 80 }, { ...base, direction: 'inbound', packets: 1, bytes: 96 });
    }
    const connected: ConnectionEntry[] = this.live
      .filter((c) => c.opened <= t)
      .map((c) => ({
        proto: 'tcp', family: 4, localAddress: LOCAL, localPort: c.localPort, remoteAddress: c.address, remotePort: c.port, state: 'established',
        pid: c.program.pid, process: c.program.process, exe: c.program.exe, user: c.program.user,
      }));
    connected.sort(compareConnections);
    const packets = [...lookups, ...syns].slice(0, DEFAULT_MAX_PACKETS_PER_ROUND);
    const seen = flows.reduce((a, f) => a + f.packets, 0);
    return {
      connected,
      report: {
        from, to: t,
        flows: { flows, unattributed: { packets: 0, bytes: 0 }, overflow: { packets: 0, bytes: 0 } },
        dns, dnsOverflow: 0, malformed: {},
        sample: { packets, seen, dns: dns.length, dnsDropped: 0 },
        malformedCount: 0,
        counters: { seen, decoded: seen, malformed: 0, truncated: 0, kernelDrops: 0, batches: 60, callbackErrors: 0 },
      },
    };
  }

  private nameOf(address: string): string {
    let name = this.names.get(address);
    if (name === undefined) this.names.set(address, (name = `h${this.names.size.toString(36)}.cdn${this.names.size % 17}.example.net`));
    return name;
  }
}

function packet(proto: string, src: string, srcPort: number, dst: string, dstPort: number, ts: number, length: number, flags: number | null, q: string | null, ans: string | null, rcode: string | null = null): PacketRecord {
  return {
    ts, protocols: `eth:ipv4:${proto}${q !== null ? ':dns' : ''}`, proto, srcAddr: src, srcPort, dstAddr: dst, dstPort, length,
    tcpFlags: proto === 'tcp' ? flags : null, dnsQuery: q, dnsAnswer: ans, dnsRcode: rcode,
  };
}
