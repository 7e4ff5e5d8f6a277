import type { Draw } from './draw';
import type { DnsAnswer } from '../../src/main/engine/collect/capture/dns';
import {
  CHAT, DAY, exchange, FIREFOX, HOUR, LOCAL_V4, LOCAL_V6, MINUTE, ROUTER, SECOND, SSH, STUB, SYNC, transfer,
  type Conn, type Internet, type Owner, type Pids, type Traffic,
} from './world';
import { dayStartOf } from './days';

/**
 * Incidents injected into the simulated week, with their labels. Four of each kind by default,
 * on different days and at different hours (one in each quarter of the day: night, morning,
 * afternoon, evening), never in the learning day and never overlapping one another.
 */
export type TrafficKind = 'reverse-shell' | 'beacon' | 'exfiltration' | 'port-scan' | 'dns-tunnel';

export const TRAFFIC_KINDS: readonly TrafficKind[] = ['reverse-shell', 'beacon', 'exfiltration', 'port-scan', 'dns-tunnel'];

/** One injected incident as the harness reads it (the labels file holds a list of these). */
export interface Incident {
  id: string;
  kind: TrafficKind;
  /** First and last moment of its traffic, ms. */
  start: number;
  end: number;
  /** Index (from 0) of the first and last round whose scan or capture report shows it. */
  startRound: number;
  endRound: number;
  /** The process behind it; null for a scan from elsewhere. `pids`: every pid it ran as. */
  pid: number | null;
  pids: number[];
  process: string | null;
  exe: string | null;
  user: string | null;
  /** Remote addresses it talked with (for a scan, the scanner). */
  remotes: string[];
  /** The domain a tunnel's names are under. */
  domain: string | null;
  /** Bytes an exfiltration sends (payload). */
  bytesOut: number | null;
  detail: string;
}

interface Ctx {
  tr: Traffic;
  net: Internet;
  draw: Draw;
  pids: Pids;
  start: number;
}

const QUARTERS: readonly [number, number][] = [
  [0, 6],
  [6, 12],
  [12, 18],
  [18, 24],
];

/** How long an incident of each kind lasts, drawn. */
function durationOf(kind: TrafficKind, variant: number, draw: Draw): number {
  switch (kind) {
    case 'reverse-shell':
      return draw.logUniform(10 * MINUTE, 3 * HOUR);
    case 'beacon':
      return draw.logUniform(2 * HOUR, 8 * HOUR);
    case 'exfiltration':
      return draw.uniform(20, 60) * MINUTE;
    case 'port-scan':
      return [draw.uniform(15, 40) * SECOND, draw.uniform(60, 120) * MINUTE, draw.uniform(2, 5) * MINUTE, draw.uniform(1, 3) * MINUTE][variant % 4]!;
    case 'dns-tunnel':
      return draw.uniform(15, 60) * MINUTE;
  }
}

interface Slot {
  kind: TrafficKind;
  variant: number;
  start: number;
  end: number;
}

/** When each incident happens: distinct days per kind where possible, one per quarter of the day. */
export function schedule(o: { start: number; days: number; perKind: number; draw: Draw }): Slot[] {
  const { draw } = o;
  const days = Array.from({ length: o.days - 1 }, (_, i) => i + 1);
  if (days.length === 0) return [];
  const placed: Slot[] = [];
  const free = (a: number, b: number) => placed.every((p) => b + 15 * MINUTE <= p.start || a >= p.end + 15 * MINUTE);
  for (const kind of TRAFFIC_KINDS) {
    const dayOrder = draw.shuffled(days);
    const quarters = draw.shuffled(QUARTERS);
    for (let n = 0; n < o.perKind; n++) {
      const variant = n;
      let slot: Slot | null = null;
      for (let attempt = 0; attempt < 200 && !slot; attempt++) {
        // After a few attempts, any free day and any hour: a short simulation is crowded.
        const d = attempt < 40 ? dayOrder[n % dayOrder.length]! : draw.pick(days);
        const [h0, h1] = attempt < 80 ? quarters[n % 4]! : [0, 24];
        const start = dayStartOf(o.start, d) + draw.uniform(h0, h1) * HOUR;
        const end = start + durationOf(kind, variant, draw);
        if (end <= dayStartOf(o.start, o.days) - 5 * MINUTE && free(start, end)) slot = { kind, variant, start, end };
      }
      if (slot) placed.push(slot);
    }
  }
  return placed.sort((a, b) => a.start - b.start);
}

const WORDS = ['cdn', 'static', 'update', 'sync', 'img', 'assets', 'api', 'stats', 'mirror', 'media'];

/** A never-seen host: a fresh name under .test or only an address. */
function newRemote(c: Ctx, o: { named: boolean; v6?: boolean }): { address: string; name: string | null } {
  const name = o.named ? `${c.draw.pick(WORDS)}-${c.draw.int(10, 9999)}.${c.draw.pick(['example-cdn', 'svc', 'cloudedge', 'webstat'])}.test` : null;
  const address = o.v6 ? c.net.pool.v6() : c.net.pool.reserved4();
  if (name) c.net.hosts.set(name, { name, v4: o.v6 ? [] : [address], v6: o.v6 ? [address] : [], cname: null, ttl: c.draw.pick([60, 300]), quic: false });
  return { address, name };
}

const HEX = '0123456789abcdef';
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const randomLabel = (draw: Draw, alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[draw.int(0, alphabet.length - 1)]).join('');

type Built = Omit<Incident, 'id' | 'startRound' | 'endRound'>;

function label(o: Owner | null, kind: TrafficKind, start: number, end: number, remotes: string[], detail: string, extra: Partial<Built> = {}): Built {
  return { kind, start, end, pid: o?.pid ?? null, pids: o ? [o.pid] : [], process: o?.process ?? null, exe: o?.exe ?? null, user: o?.user ?? null, remotes, domain: null, bytesOut: null, detail, ...extra };
}

const SHELLS: Owner[] = [
  { pid: 0, process: 'bash', exe: '/usr/bin/bash', user: 'alice' },
  { pid: 0, process: 'python3', exe: '/usr/bin/python3.11', user: 'alice' },
  { pid: 0, process: 'nc', exe: '/usr/bin/nc.openbsd', user: 'alice' },
  { pid: 0, process: 'perl', exe: '/usr/bin/perl', user: 'alice' },
];

/** A shell or interpreter calls out to a host never seen and holds the connection; an operator types now and then. */
function reverseShell(c: Ctx, s: Slot): Built {
  const { draw, tr } = c;
  const who = { ...SHELLS[s.variant % SHELLS.length]!, pid: c.pids.next() };
  const port = draw.pick([4444, 443, 8080, 9001, 1337]);
  const remote = newRemote(c, { named: draw.chance(0.5), v6: draw.chance(0.2) });
  if (remote.name) tr.lookup(s.start - 0.05 * SECOND, remote.name);
  const conn = tr.open(who, 'tcp', remote.address, port, s.start, s.end);
  exchange(conn, s.start, 120, 30);
  for (let t = s.start + draw.exp(2 * MINUTE); t < s.end; ) {
    const spell = t + draw.uniform(3, 15) * MINUTE;
    for (; t < spell && t < s.end; t += draw.exp(20 * SECOND)) exchange(conn, t, draw.logNormal(800, 1.5), draw.logNormal(60, 0.5));
    if (draw.chance(0.3) && t < s.end) transfer(conn, t, Math.min(s.end, t + 5 * SECOND), 2_000, draw.logNormal(500_000, 1));
    t += draw.exp(20 * MINUTE);
  }
  return label(who, 'reverse-shell', s.start, s.end, [remote.address], `${who.process} holds a connection to ${remote.name ?? remote.address}:${port}`);
}

const BEACONS: { who: Omit<Owner, 'pid'>; period: number; jitter: number; perCheckIn?: boolean }[] = [
  { who: { process: 'updater', exe: '/home/alice/.local/share/updater/updater', user: 'alice' }, period: 60, jitter: 0.2 },
  { who: { process: 'python3', exe: '/usr/bin/python3.11', user: 'alice' }, period: 30, jitter: 0.1 },
  { who: { process: 'kworker', exe: '/tmp/.ICE-unix/.k/kworker', user: 'alice' }, period: 300, jitter: 0.3 },
  // A shell loop run from cron: a new curl process for every check-in.
  { who: { process: 'curl', exe: '/usr/bin/curl', user: 'alice' }, period: 120, jitter: 0.4, perCheckIn: true },
];

/** Short connections to a new host at a period with jitter; now and then a task and its result. */
function beacon(c: Ctx, s: Slot): Built {
  const { draw, tr } = c;
  const b = BEACONS[s.variant % BEACONS.length]!;
  let who: Owner = { ...b.who, pid: c.pids.next() };
  const pids = [who.pid];
  const remote = newRemote(c, { named: true, v6: draw.chance(0.25) });
  let last = s.start;
  for (let t = s.start; t < s.end; t += draw.jittered(b.period * SECOND, b.jitter)) {
    if (b.perCheckIn && t > s.start) {
      who = { ...b.who, pid: c.pids.next() };
      pids.push(who.pid);
    }
    tr.lookup(t - 0.03 * SECOND, remote.name!);
    // curl closes as soon as it has its answer; the others keep the connection for the
    // server's keep-alive timeout (5 s, Apache's default) before it is closed.
    const len = (b.perCheckIn ? draw.uniform(0.2, 1.5) : draw.uniform(5, 6)) * SECOND;
    const conn = tr.open(who, 'tcp', remote.address, 443, t, t + len);
    exchange(conn, t, 600 + draw.logNormal(500, 0.2), 4_500 + draw.logNormal(300, 0.3));
    if (draw.chance(0.05)) {
      exchange(conn, t + 0.1 * SECOND, 200, draw.logNormal(20_000, 1));
      exchange(conn, t + 0.15 * SECOND, draw.logNormal(5_000, 1), 100);
    }
    last = t + len;
  }
  const first = { ...b.who, pid: pids[0]! };
  return label(first, 'beacon', s.start, last, [remote.address], `${b.who.process} calls ${remote.name} every ${b.period} s ± ${Math.round(b.jitter * 100)} %`, { pids });
}

/** Bytes a process sent per hour of [from, to), payload only, for the hours it sent anything. */
export function hourlyOut(tr: Traffic, process: string, from: number, to: number): number[] {
  const hours = new Map<number, number>();
  const add = (t: number, b: number) => {
    if (t < from || t >= to) return;
    const h = Math.floor((t - from) / HOUR);
    hours.set(h, (hours.get(h) ?? 0) + b);
  };
  for (const conn of tr.conns) {
    if (conn.owner.process !== process) continue;
    for (let i = 0; i < conn.ex.length; i += 3) add(conn.ex[i]!, conn.ex[i + 1]!);
    for (let i = 0; i < conn.bulk.length; i += 4) {
      const [a, b, out] = [conn.bulk[i]!, conn.bulk[i + 1]!, conn.bulk[i + 2]!];
      for (let t = a; t < b; t += MINUTE) add(t, (out * (Math.min(b, t + MINUTE) - t)) / (b - a));
    }
  }
  return [...hours.values()].filter((b) => b > 0);
}

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** A usual process sends 50 times its usual hourly volume (median over the learning day) to a new host. */
function exfiltration(c: Ctx, s: Slot, candidates: readonly Owner[]): Built {
  const { draw, tr } = c;
  const known = candidates[s.variant % candidates.length]!;
  const usual = median(hourlyOut(tr, known.process, c.start, c.start + DAY));
  const who = known.pid === 0 ? { ...known, pid: c.pids.next() } : known;
  const viaSsh = who.process === 'ssh';
  const remote = newRemote(c, { named: !viaSsh && draw.chance(0.5) });
  if (remote.name) tr.lookup(s.start - 0.05 * SECOND, remote.name);
  const total = 50 * usual;
  const conn: Conn = tr.open(who, 'tcp', remote.address, viaSsh ? 22 : 443, s.start, s.end);
  exchange(conn, s.start, 800, 4_500);
  transfer(conn, s.start + SECOND, s.end - SECOND, total, total / 100);
  return label(who, 'exfiltration', s.start, s.end, [remote.address], `${who.process} sends ${Math.round(total / 1e3)} kB (50 × its usual ${Math.round(usual / 1e3)} kB an hour) to ${remote.name ?? remote.address}`, { bytesOut: Math.round(total) });
}

const COMMON_PORTS = [21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1723, 3306, 3389, 5900, 8080, 8443, 8888, 5432, 6379, 27017, 9200, 11211, 631, 5353, 2049];

/** An inbound scan: one address probes many local ports, almost all closed (only sshd answers). */
function portScan(c: Ctx, s: Slot): Built {
  const { draw, tr } = c;
  const v6 = s.variant % 4 === 1;
  const scanner = v6 ? c.net.pool.v6() : `192.168.1.${draw.int(60, 99)}`;
  const local = v6 ? LOCAL_V6 : LOCAL_V4;
  const count = [1000, draw.int(250, 400), 1024, 100][s.variant % 4]!;
  const ports = new Set<number>(s.variant % 4 === 2 ? Array.from({ length: 1024 }, (_, i) => i + 1) : COMMON_PORTS.slice(0, Math.min(count, COMMON_PORTS.length)));
  while (ports.size < count) ports.add(draw.int(1, 65535));
  const order = draw.shuffled([...ports]);
  const connectScan = s.variant % 4 === 2;
  const fixedSource = draw.int(40000, 65000);
  const step = (s.end - s.start) / order.length;
  let last = s.start;
  order.forEach((port, i) => {
    const t = s.start + i * step + draw.uniform(0, step / 2);
    const src = connectScan ? draw.int(32768, 60999) : fixedSource;
    const open = port === 22;
    tr.raw.push({ t, proto: 'tcp', direction: 'inbound', localAddr: local, localPort: port, remoteAddr: scanner, remotePort: src, packets: open && connectScan ? 3 : open ? 2 : 1, bytes: open && connectScan ? 180 : open ? 114 : 60, flags: open ? 0x16 : 0x02 });
    tr.raw.push({ t: t + 0.0005 * SECOND, proto: 'tcp', direction: 'outbound', localAddr: local, localPort: port, remoteAddr: scanner, remotePort: src, packets: 1, bytes: open ? 58 : 54, flags: open ? 0x12 : 0x14 });
    last = t;
  });
  // The last variant also probes UDP: closed ports answer with ICMP port unreachable.
  if (s.variant % 4 === 3) {
    for (const port of draw.shuffled([53, 67, 69, 123, 137, 161, 500, 514, 1900, 5353, 11211, 1434])) {
      const t = draw.uniform(s.start, s.end);
      tr.raw.push({ t, proto: 'udp', direction: 'inbound', localAddr: local, localPort: port, remoteAddr: scanner, remotePort: fixedSource, packets: 1, bytes: 42 + draw.int(0, 40), flags: 0 });
      if (port !== 5353) tr.raw.push({ t: t + 0.0005 * SECOND, proto: 'icmp', direction: 'outbound', localAddr: local, localPort: null, remoteAddr: scanner, remotePort: null, packets: 1, bytes: 70, flags: 0 });
    }
  }
  const kind = connectScan ? 'connect scan' : 'SYN scan';
  return label(null, 'port-scan', s.start, last, [scanner], `${kind} of ${order.length} ports from ${scanner}`);
}

const TUNNELS: { who: Omit<Owner, 'pid'>; rate: number; direct: boolean; qtype: 'TXT' | 'CNAME'; alphabet: string }[] = [
  { who: { process: 'python3', exe: '/usr/bin/python3.11', user: 'alice' }, rate: 2, direct: false, qtype: 'TXT', alphabet: BASE32 },
  { who: { process: 'dnscat', exe: '/tmp/.cache/dnscat', user: 'alice' }, rate: 1, direct: true, qtype: 'CNAME', alphabet: HEX },
  { who: { process: 'iodine', exe: '/usr/sbin/iodine', user: 'root' }, rate: 5, direct: true, qtype: 'TXT', alphabet: BASE32 },
  { who: { process: 'python3', exe: '/usr/bin/python3.11', user: 'alice' }, rate: 0.5, direct: false, qtype: 'CNAME', alphabet: HEX },
];

/**
 * Many queries with long random labels under one domain: through the system resolver (the tool
 * holds a UDP socket connected to its stub) or straight to a resolver elsewhere.
 */
function dnsTunnel(c: Ctx, s: Slot): Built {
  const { draw, tr } = c;
  const v = TUNNELS[s.variant % TUNNELS.length]!;
  const who: Owner = { ...v.who, pid: c.pids.next() };
  const domain = `${draw.pick(['t', 'ns', 'c', 'd'])}.${draw.pick(['metrics', 'telemetry', 'cdn', 'lookup'])}-${draw.int(10, 999)}.test`;
  const server = v.direct ? c.net.pool.reserved4() : STUB;
  const sock = tr.open(who, 'udp', server, 53, s.start - SECOND, s.end + SECOND);
  let last = s.start;
  for (let t = s.start; t < s.end; t += draw.exp(SECOND / v.rate)) {
    const name = `${randomLabel(draw, v.alphabet, draw.int(40, 63))}.${randomLabel(draw, v.alphabet, draw.int(10, 63))}.${domain}`;
    const answers: DnsAnswer[] = v.qtype === 'CNAME' ? [{ name, type: 'CNAME', data: `${randomLabel(draw, v.alphabet, draw.int(20, 60))}.${domain}` }] : [];
    const rcode = draw.chance(0.01) ? 'SERVFAIL' : 'NOERROR';
    if (v.direct) {
      tr.transactions.push({ t, rtt: draw.uniform(15, 60), localPort: sock.localPort, server, name, qtypes: [v.qtype], rcode, answers: [rcode === 'NOERROR' ? answers : []] });
    } else tr.lookup(t, name, { qtype: v.qtype, rcode, answers });
    last = t;
  }
  const remotes = v.direct ? [server] : [STUB, ROUTER];
  return label(who, 'dns-tunnel', s.start, last, remotes, `${who.process} sends ${v.rate} ${v.qtype} queries a second under ${domain}${v.direct ? ` to ${server}` : ' through the system resolver'}`, { domain });
}

/** Plans and injects the incidents into `tr`; returns their labels, in time order. */
export function injectIncidents(o: { tr: Traffic; net: Internet; draw: Draw; pids: Pids; start: number; days: number; perKind: number; roundOf: (t: number) => number }): Incident[] {
  const c: Ctx = { tr: o.tr, net: o.net, draw: o.draw, pids: o.pids, start: o.start };
  const slots = schedule({ start: o.start, days: o.days, perKind: o.perKind, draw: o.draw });
  const exfilFrom: Owner[] = o.draw.shuffled([FIREFOX, CHAT, SYNC, { pid: 0, ...SSH }]).filter((w) => hourlyOut(o.tr, w.process, o.start, o.start + DAY).length > 0);
  const built = slots.map((s): Built => {
    switch (s.kind) {
      case 'reverse-shell':
        return reverseShell(c, s);
      case 'beacon':
        return beacon(c, s);
      case 'exfiltration':
        return exfiltration(c, s, exfilFrom.length ? exfilFrom : [FIREFOX]);
      case 'port-scan':
        return portScan(c, s);
      case 'dns-tunnel':
        return dnsTunnel(c, s);
    }
  });
  // Whole milliseconds, as the stores keep times: a flow stored at its first packet's rounded
  // time must not fall before the incident it belongs to.
  return built.map((b, i) => ({ id: `${b.kind}-${i + 1}`, ...b, start: Math.floor(b.start), end: Math.ceil(b.end), startRound: o.roundOf(b.start), endRound: o.roundOf(b.end) }));
}
