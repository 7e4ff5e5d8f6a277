import type { SocketEntry } from '../../src/main/engine/collect/sockets/types';
import { seededRandom } from '../../src/shared/random';

/**
 * A simulated desktop's port history, one round a minute, and the incidents injected into it.
 * Documented in docs/detection.md ("The quality benchmark"). Everything is in local time, like
 * the people whose machines these are; the same seed and number of days give the same rounds.
 *
 * Two random streams: the first draws what the generator always drew (the day plans, the
 * incidents of the first four kinds, one-round ephemeral UDP client sockets), in the same order,
 * so those are what they were before the second stream existed. The second draws what was added
 * later: services first run on day 3, the `high-udp` and `new-owner` incidents, and ephemeral
 * client sockets that live a few minutes.
 *
 * Rounds are built lazily (`simulate(...).rounds()`): forty days of rounds as objects would be
 * gigabytes.
 */
export type IncidentKind = 'new-listener' | 'vanished' | 'unusual-hour' | 'burst' | 'high-udp' | 'new-owner';

export const KINDS: readonly IncidentKind[] = ['new-listener', 'vanished', 'unusual-hour', 'burst', 'high-udp', 'new-owner'];

export interface PortRef {
  proto: 'tcp' | 'udp';
  port: number;
}

export interface Injected {
  kind: IncidentKind;
  start: number;
  end: number;
  /** The incident's parameters as JSON (port, proto, service, burst seed, impostor). */
  what: string;
  /** The ports the incident is about: an alert that names one of them names the incident. */
  ports: PortRef[];
}

export interface GeneratedRound {
  startedAt: number;
  sockets: SocketEntry[];
}

interface Service {
  /** What the user calls it: one name for all of a program's ports. */
  name: string;
  proto: 'tcp' | 'udp';
  port: number;
  process: string | null;
  exe: string | null;
  pid: number | null;
  address?: string;
}

const svc = (name: string, proto: 'tcp' | 'udp', port: number, process: string | null, exe: string | null, pid: number | null, address = '0.0.0.0'): Service => ({ name, proto, port, process, exe, pid, address });

/** Always on: system daemons. */
const SYSTEM: Service[] = [
  svc('sshd', 'tcp', 22, 'sshd', '/usr/sbin/sshd', 801),
  svc('cupsd', 'tcp', 631, 'cupsd', '/usr/sbin/cupsd', 822, '127.0.0.1'),
  svc('systemd-resolved', 'tcp', 53, 'systemd-resolve', '/usr/lib/systemd/systemd-resolved', 412, '127.0.0.53'),
  svc('systemd-resolved', 'udp', 53, 'systemd-resolve', '/usr/lib/systemd/systemd-resolved', 412, '127.0.0.53'),
  svc('avahi', 'udp', 5353, 'avahi-daemon', '/usr/sbin/avahi-daemon', 640),
  svc('chronyd', 'udp', 323, 'chronyd', '/usr/sbin/chronyd', 655, '127.0.0.1'),
  svc('dhclient', 'udp', 68, 'dhclient', '/usr/sbin/dhclient', 700),
  svc('postgres', 'tcp', 5432, 'postgres', '/usr/lib/postgresql/15/bin/postgres', 950, '127.0.0.1'),
  svc('exim4', 'tcp', 25, 'exim4', '/usr/sbin/exim4', 990, '127.0.0.1'),
];

/** Started at login, gone at logout. */
const SESSION: Service[] = [
  svc('syncthing', 'tcp', 22000, 'syncthing', '/usr/bin/syncthing', 2301),
  svc('syncthing', 'udp', 21027, 'syncthing', '/usr/bin/syncthing', 2301),
  svc('syncthing', 'tcp', 8384, 'syncthing', '/usr/bin/syncthing', 2301, '127.0.0.1'),
  svc('kdeconnect', 'tcp', 1716, 'kdeconnectd', '/usr/bin/kdeconnectd', 2350),
  svc('kdeconnect', 'udp', 1716, 'kdeconnectd', '/usr/bin/kdeconnectd', 2350),
  svc('spotify', 'tcp', 57621, 'spotify', '/usr/share/spotify/spotify', 2400),
  svc('discord', 'tcp', 6463, 'Discord', '/usr/share/discord/Discord', 2450, '127.0.0.1'),
];

const DEV_SERVER = svc('dev-server', 'tcp', 3000, 'node', '/usr/bin/node', 3100, '127.0.0.1');
const VITE = svc('vite', 'tcp', 5173, 'node', '/usr/bin/node', 3200, '127.0.0.1');
const DJANGO = svc('django', 'tcp', 8000, 'python3', '/usr/bin/python3.11', 3300, '127.0.0.1');
const BACKUP = svc('backup-agent', 'tcp', 8200, 'backup-agent', '/opt/backup/bin/backup-agent', 4100, '127.0.0.1');

/**
 * Services the learning period never sees: each first runs on day 3 (index 2, the first day
 * with a session from then on) and recurs on later days.
 */
const DEV_SERVER_2 = svc('dev-server-2', 'tcp', 4200, 'node', '/usr/bin/node', 3400, '127.0.0.1');
const GAME_SERVER = svc('game-server', 'tcp', 25565, 'java', '/usr/lib/jvm/java-17-openjdk-amd64/bin/java', 5100);
/** Kernel WireGuard: the socket has no owning process, as `ss` shows it. */
const WIREGUARD = svc('wireguard', 'udp', 51820, null, null, null);
export const LATE_FIRST_DAY = 2;

/** Programs whose UDP client sockets (random ports in the ephemeral range) are ordinary. */
const UDP_CLIENTS = [
  { process: 'firefox', exe: '/usr/lib/firefox/firefox' },
  { process: 'Discord', exe: '/usr/share/discord/Discord' },
];
export const EPHEMERAL_UDP_CLIENTS = 'udp-clients';

const ALL_SERVICES: readonly Service[] = [...SYSTEM, ...SESSION, DEV_SERVER, VITE, DJANGO, BACKUP, DEV_SERVER_2, GAME_SERVER, WIREGUARD];

export interface LegitService {
  name: string;
  sockets: readonly { proto: 'tcp' | 'udp'; port: number; process: string | null; exe: string | null }[];
  /** First day (index) it runs; 0 for the services the learning period sees. */
  firstDay: number;
}

/** The legitimate services of the simulated machine, by name (what a simulated user knows). */
export const LEGIT_SERVICES: readonly LegitService[] = (() => {
  const by = new Map<string, LegitService>();
  for (const s of ALL_SERVICES) {
    const e = by.get(s.name) ?? { name: s.name, sockets: [], firstDay: [DEV_SERVER_2, GAME_SERVER, WIREGUARD].includes(s) ? LATE_FIRST_DAY : 0 };
    (e.sockets as { proto: 'tcp' | 'udp'; port: number; process: string | null; exe: string | null }[]).push({ proto: s.proto, port: s.port, process: s.process, exe: s.exe });
    by.set(s.name, e);
  }
  return [...by.values()];
})();

const EPHEMERAL_LO = 32_768;
const EPHEMERAL_HI = 65_535;

/**
 * The legitimate service a socket belongs to, or null. Known owner fields must match the
 * service's (an impostor on 22/tcp is not sshd); a UDP socket in the ephemeral range held by an
 * ordinary client program is `udp-clients`.
 */
export function legitServiceOf(proto: 'tcp' | 'udp', port: number, process: string | null = null, exe: string | null = null): string | null {
  for (const s of LEGIT_SERVICES) {
    for (const k of s.sockets) {
      if (k.proto !== proto || k.port !== port) continue;
      if (exe !== null && k.exe !== null && exe !== k.exe) continue;
      if (process !== null && k.process !== null && process !== k.process) continue;
      // A socket of an owned service now shown with an owner it never has (or the reverse) is not it.
      if ((exe !== null || process !== null) && k.exe === null && k.process === null) continue;
      return s.name;
    }
  }
  if (proto === 'udp' && port >= EPHEMERAL_LO && port <= EPHEMERAL_HI && (process !== null || exe !== null)) {
    if (UDP_CLIENTS.some((c) => (process === null || c.process === process) && (exe === null || c.exe === exe))) return EPHEMERAL_UDP_CLIENTS;
  }
  return null;
}

const toSocket = (s: Service, pid = s.pid): SocketEntry => ({
  proto: s.proto,
  family: 4,
  address: s.address ?? '0.0.0.0',
  port: s.port,
  pid,
  process: s.process,
  exe: s.exe,
  user: s.process === null ? null : s.port < 1024 ? 'root' : 'alice',
});

export interface GeneratorOptions {
  /** Local midnight of a Monday; the week starts there. */
  start: number;
  days: number;
  seed?: number;
  /** No incident starts before this many hours (the model is still learning). */
  quietHours?: number;
}

interface DayPlan {
  login: number | null;
  logout: number | null;
  dev: [number, number][];
  vite: [number, number] | null;
  django: [number, number] | null;
  backup: [number, number];
}

/** What the second stream adds to a day. */
interface LatePlan {
  dev2: [number, number] | null;
  game: [number, number] | null;
  wireguard: [number, number] | null;
}

const MIN = 60_000;
const HOUR = 60 * MIN;

function localTime(dayStart: number, hours: number, jitterMin: number, random: () => number): number {
  return dayStart + hours * HOUR + Math.round((random() * 2 - 1) * jitterMin) * MIN;
}

/** Midnight `d` days after `start`, in local time (DST-safe). */
export function dayStartOf(start: number, d: number): number {
  const t = new Date(start);
  return new Date(t.getFullYear(), t.getMonth(), t.getDate() + d).getTime();
}

function planDay(dayStart: number, random: () => number): DayPlan {
  const dow = new Date(dayStart).getDay();
  const weekend = dow === 0 || dow === 6;
  const backupStart = localTime(dayStart, 2, 5, random);
  const backup: [number, number] = [backupStart, backupStart + (15 + Math.floor(random() * 10)) * MIN];
  if (weekend) {
    if (dow === 0 || random() < 0.3) return { login: null, logout: null, dev: [], vite: null, django: null, backup };
    return { login: localTime(dayStart, 11, 30, random), logout: localTime(dayStart, 13.5, 30, random), dev: [], vite: null, django: null, backup };
  }
  const login = localTime(dayStart, 8.5, 20, random);
  const logout = localTime(dayStart, 18.5, 30, random);
  const dev: [number, number][] = [
    [localTime(dayStart, 9.5, 15, random), localTime(dayStart, 12, 10, random)],
    [localTime(dayStart, 13.5, 15, random), localTime(dayStart, 17.5, 15, random)],
  ];
  const vite: [number, number] | null = random() < 0.6 ? [localTime(dayStart, 14, 20, random), localTime(dayStart, 16, 20, random)] : null;
  const django: [number, number] | null = random() < 0.4 ? [localTime(dayStart, 10, 20, random), localTime(dayStart, 11.5, 20, random)] : null;
  return { login, logout, dev, vite, django, backup };
}

/**
 * The late services of a day. Each runs on its first possible day from LATE_FIRST_DAY, then on
 * a share of later days: the second dev server on weekday afternoons, the game server in the
 * evening (any day), WireGuard through a weekday session.
 */
function planLate(d: number, dayStart: number, plan: DayPlan, first: { dev2: boolean; game: boolean; wireguard: boolean }, random: () => number): LatePlan {
  const out: LatePlan = { dev2: null, game: null, wireguard: null };
  const draws = [random(), random(), random()];
  if (d < LATE_FIRST_DAY) return out;
  const dow = new Date(dayStart).getDay();
  const weekday = dow !== 0 && dow !== 6;
  const j = () => localTime(0, 0, 20, random);
  if (weekday && plan.login !== null && (first.dev2 || draws[0]! < 0.5)) {
    out.dev2 = [dayStart + 13 * HOUR + j(), dayStart + 16.5 * HOUR + j()];
    first.dev2 = false;
  }
  if (first.game || draws[1]! < 0.4) {
    out.game = [dayStart + 19.5 * HOUR + j(), dayStart + 22.5 * HOUR + j()];
    first.game = false;
  }
  if (weekday && plan.login !== null && (first.wireguard || draws[2]! < 0.6)) {
    out.wireguard = [plan.login + (5 + Math.floor(random() * 10)) * MIN, plan.logout! - (5 + Math.floor(random() * 10)) * MIN];
    first.wireguard = false;
  }
  return out;
}

const within = (t: number, span: [number, number] | null | undefined) => !!span && t >= span[0] && t < span[1];

export interface Generated {
  rounds: GeneratedRound[];
  injected: Injected[];
}

interface Plan {
  plans: DayPlan[];
  late: LatePlan[];
  injected: Injected[];
  /** The streams, positioned where the rounds start drawing. */
  random: () => number;
  extra: () => number;
}

/** The second stream's seed, far from the first's so the two do not overlap in practice. */
const extraSeed = (seed: number) => (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) ^ 0x2545f491) >>> 0;

function plan(o: GeneratorOptions): Plan {
  const random = seededRandom(o.seed ?? 7);
  const plans: DayPlan[] = [];
  for (let d = 0; d < o.days; d++) plans.push(planDay(dayStartOf(o.start, d), random));
  const first = planIncidents(o, plans, random);
  const extra = seededRandom(extraSeed(o.seed ?? 7));
  const firstRun = { dev2: true, game: true, wireguard: true };
  const late = plans.map((p, d) => planLate(d, dayStartOf(o.start, d), p, firstRun, extra));
  const added = planNewKinds(o, plans, first, extra);
  const injected = [...first, ...added].sort((a, b) => a.start - b.start);
  return { plans, late, injected, random, extra };
}

export interface Simulation {
  injected: Injected[];
  /** Rounds in time order, built one at a time; every call starts again from the first. */
  rounds(): Generator<GeneratedRound, void, undefined>;
  roundCount: number;
}

/**
 * The simulation without its rounds built. Incidents are spread over the days after
 * `quietHours`, at least two hours apart: 2 to 3 a day cycling through the first four kinds,
 * and 1 to 2 a day alternating between `high-udp` and `new-owner`.
 */
export function simulate(o: GeneratorOptions): Simulation {
  const { injected } = plan(o);
  const end = dayStartOf(o.start, o.days);
  return { injected, rounds: () => roundsOf(o), roundCount: Math.round((end - o.start) / MIN) };
}

/** The whole simulation in memory (a few days only). */
export function generate(o: GeneratorOptions): Generated {
  const s = simulate(o);
  return { rounds: [...s.rounds()], injected: s.injected };
}

interface LivedSocket {
  socket: SocketEntry;
  until: number;
}

function* roundsOf(o: GeneratorOptions): Generator<GeneratedRound, void, undefined> {
  const { plans, late, injected, random, extra } = plan(o);
  const end = dayStartOf(o.start, o.days);
  let d = 0;
  let nextDay = dayStartOf(o.start, 1);
  let lived: LivedSocket[] = [];
  for (let t = o.start; t < end; t += MIN) {
    while (t >= nextDay && d < o.days - 1) nextDay = dayStartOf(o.start, ++d + 1);
    const p = plans[d]!;
    const l = late[d]!;
    const inSession = p.login !== null && t >= p.login && t < p.logout!;
    const active: Service[] = [...SYSTEM];
    if (inSession) active.push(...SESSION);
    if (p.dev.some((s) => within(t, s))) active.push(DEV_SERVER);
    if (within(t, p.vite)) active.push(VITE);
    if (within(t, p.django)) active.push(DJANGO);
    if (within(t, p.backup)) active.push(BACKUP);
    if (within(t, l.dev2)) active.push(DEV_SERVER_2);
    if (within(t, l.game)) active.push(GAME_SERVER);
    if (within(t, l.wireguard)) active.push(WIREGUARD);
    let sockets = active.map((s) => toSocket(s));
    for (const inc of injected) {
      if (t < inc.start || t >= inc.end) continue;
      sockets = applyIncident(inc, sockets);
    }
    // Ephemeral UDP client sockets: browsers, DNS-over-QUIC, games; many more during a session.
    const n = poisson(inSession ? 8 : 1.5, random);
    for (let i = 0; i < n; i++) {
      const port = EPHEMERAL_LO + Math.floor(random() * (60_999 - EPHEMERAL_LO));
      sockets.push({ proto: 'udp', family: 4, address: '0.0.0.0', port, pid: 2500 + i, process: 'firefox', exe: '/usr/lib/firefox/firefox', user: 'alice' });
    }
    // And a few that live 2 to 8 minutes (a QUIC session, a voice call's media socket).
    lived = lived.filter((s) => s.until > t);
    const m = poisson(inSession ? 0.3 : 0.05, extra);
    for (let i = 0; i < m; i++) {
      const client = UDP_CLIENTS[Math.floor(extra() * UDP_CLIENTS.length)]!;
      const port = EPHEMERAL_LO + Math.floor(extra() * (60_999 - EPHEMERAL_LO));
      const minutes = 2 + Math.floor(extra() * 7);
      lived.push({ socket: { proto: 'udp', family: 4, address: '0.0.0.0', port, pid: client.process === 'firefox' ? 2500 : 2450, ...client, user: 'alice' }, until: t + minutes * MIN });
    }
    for (const s of lived) sockets.push(s.socket);
    yield { startedAt: t, sockets };
  }
}

function poisson(lambda: number, random: () => number): number {
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= random();
  } while (p > l && k < 1000);
  return k - 1;
}

const BURST_PORTS = (seed: number) => Array.from({ length: 30 }, (_, i) => 10_000 + ((seed * 7919 + i * 613) % 20_000));

interface Spec {
  port?: number;
  proto?: 'tcp' | 'udp';
  seed?: number;
  service?: string;
  process?: string;
  exe?: string;
  user?: string;
}

function applyIncident(inc: Injected, sockets: SocketEntry[]): SocketEntry[] {
  const spec = JSON.parse(inc.what) as Spec;
  switch (inc.kind) {
    case 'new-listener':
      return [...sockets, { proto: spec.proto!, family: 4, address: '0.0.0.0', port: spec.port!, pid: 31_337, process: 'x', exe: '/tmp/.x/x', user: 'alice' }];
    case 'vanished':
      return sockets.filter((s) => !(s.port === spec.port && s.proto === spec.proto));
    case 'unusual-hour': {
      const s = spec.service === 'backup' ? BACKUP : DEV_SERVER;
      return sockets.some((x) => x.port === s.port) ? sockets : [...sockets, toSocket(s)];
    }
    case 'burst':
      return [...sockets, ...BURST_PORTS(spec.seed!).map((port) => ({ proto: 'tcp' as const, family: 4 as const, address: '0.0.0.0', port, pid: 6666, process: 'scanner', exe: '/tmp/scanner', user: 'alice' }))];
    case 'high-udp':
      return [...sockets, { proto: 'udp', family: 4, address: '0.0.0.0', port: spec.port!, pid: 31_338, process: spec.process!, exe: spec.exe!, user: 'alice' }];
    case 'new-owner':
      // The real owner is gone; the impostor holds its port.
      return [
        ...sockets.filter((s) => !(s.port === spec.port && s.proto === spec.proto)),
        { proto: spec.proto!, family: 4, address: '0.0.0.0', port: spec.port!, pid: 31_339, process: spec.process!, exe: spec.exe!, user: spec.user ?? 'alice' },
      ];
  }
}

function portsOf(kind: IncidentKind, what: Record<string, unknown>): PortRef[] {
  const spec = what as Spec;
  if (kind === 'unusual-hour') return [{ proto: 'tcp', port: spec.service === 'backup' ? BACKUP.port : DEV_SERVER.port }];
  if (kind === 'burst') return BURST_PORTS(spec.seed!).map((port) => ({ proto: 'tcp', port }));
  return [{ proto: spec.proto!, port: spec.port! }];
}

const overlapsAny = (start: number, end: number, taken: readonly Injected[]) => taken.some((i) => start < i.end + 2 * HOUR && end > i.start - 2 * HOUR);

/**
 * Incident times for the first four kinds: after the quiet (learning) hours, cycling through
 * the kinds, with times of day chosen so that each kind means what it says (a service vanishes
 * while it is normally up; a service appears at an hour it never runs).
 */
function planIncidents(o: GeneratorOptions, plans: readonly DayPlan[], random: () => number): Injected[] {
  const out: Injected[] = [];
  const earliest = o.start + (o.quietHours ?? 24) * HOUR;
  const kinds: IncidentKind[] = ['new-listener', 'vanished', 'unusual-hour', 'burst'];
  const unusualPorts = [4444, 31_337, 1337, 6667, 12_345, 2222, 9001];
  let k = 0;
  for (let d = 0; d < o.days; d++) {
    const dayStart = dayStartOf(o.start, d);
    const plan = plans[d]!;
    for (let slot = 0; slot < 2 + (d % 2); slot++) {
      const kind = kinds[k % kinds.length]!;
      let start: number;
      let what: Record<string, unknown>;
      let minutes = 20 + Math.floor(random() * 40);
      switch (kind) {
        case 'new-listener':
          start = localTime(dayStart, slot === 0 ? 10 : 21, 60, random);
          what = { port: unusualPorts[k % unusualPorts.length], proto: k % 3 === 2 ? 'udp' : 'tcp' };
          break;
        case 'vanished':
          if (plan.login !== null && plan.dev.length > 0 && slot === 0) {
            start = plan.login + 90 * MIN + Math.floor(random() * 60) * MIN;
            what = { port: 22_000, proto: 'tcp' };
          } else {
            start = localTime(dayStart, slot === 0 ? 4 : 15, 60, random);
            what = k % 2 ? { port: 22, proto: 'tcp' } : { port: 5432, proto: 'tcp' };
          }
          break;
        case 'unusual-hour':
          start = localTime(dayStart, slot === 0 ? 3 : 22.5, 20, random);
          what = slot === 0 || plan.login === null ? { service: 'dev' } : { service: 'backup' };
          break;
        default: // burst
          start = localTime(dayStart, slot === 0 ? 11 : 20, 60, random);
          minutes = 5 + Math.floor(random() * 10);
          what = { seed: k };
          break;
      }
      if (start < earliest) continue;
      const end = start + minutes * MIN;
      if (overlapsAny(start, end, out)) continue;
      out.push({ kind, start, end, what: JSON.stringify(what), ports: portsOf(kind, what) });
      k++;
    }
  }
  return out;
}

/** Impostors on known ports, in turn: same name, other executable; other program; during a session only. */
const IMPOSTORS = [
  { port: 22, proto: 'tcp', process: 'sshd', exe: '/tmp/.x/sshd', user: 'root', session: false },
  { port: 5432, proto: 'tcp', process: 'python3', exe: '/usr/bin/python3.11', user: 'alice', session: false },
  { port: 8384, proto: 'tcp', process: 'nc', exe: '/usr/bin/nc.openbsd', user: 'alice', session: true },
] as const;

/** Backdoors on high UDP ports, in turn. */
const HIGH_UDP_OWNERS = [
  { process: 'x', exe: '/tmp/.x/x' },
  { process: 'kworker', exe: '/dev/shm/.k/kworker' },
] as const;

/** UDP ports of legitimate services inside the ephemeral range: a backdoor never takes these. */
const RESERVED_HIGH_UDP = new Set(ALL_SERVICES.filter((s) => s.proto === 'udp' && s.port >= EPHEMERAL_LO).map((s) => s.port));

/**
 * Times of the `high-udp` and `new-owner` incidents (second stream), alternating between the
 * two kinds: two on even days, one on odd days, at least two hours from every other incident,
 * 20 to 60 minutes each; a time that does not fit is drawn again, at most 8 times.
 */
function planNewKinds(o: GeneratorOptions, plans: readonly DayPlan[], taken: readonly Injected[], random: () => number): Injected[] {
  const out: Injected[] = [];
  const earliest = o.start + (o.quietHours ?? 24) * HOUR;
  const end = dayStartOf(o.start, o.days);
  let k = 0;
  for (let d = 0; d < o.days; d++) {
    const dayStart = dayStartOf(o.start, d);
    const plan = plans[d]!;
    for (let slot = 0; slot < 1 + (d % 2 === 0 ? 1 : 0); slot++) {
      const kind: IncidentKind = k % 2 === 0 ? 'high-udp' : 'new-owner';
      const minutes = 20 + Math.floor(random() * 41);
      for (let attempt = 0; attempt < 8; attempt++) {
        let start = dayStart + Math.floor(random() * 24 * 60) * MIN;
        let what: Record<string, unknown>;
        if (kind === 'high-udp') {
          let port = EPHEMERAL_LO + Math.floor(random() * (EPHEMERAL_HI + 1 - EPHEMERAL_LO));
          if (RESERVED_HIGH_UDP.has(port)) port = port === EPHEMERAL_HI ? port - 1 : port + 1;
          what = { port, proto: 'udp', ...HIGH_UDP_OWNERS[(k >> 1) % HIGH_UDP_OWNERS.length]! };
        } else {
          let imp: (typeof IMPOSTORS)[number] = IMPOSTORS[(k >> 1) % IMPOSTORS.length]!;
          if (imp.session) {
            if (plan.login !== null && plan.logout! - plan.login > minutes * MIN + 90 * MIN) {
              start = plan.login + 30 * MIN + Math.floor(random() * ((plan.logout! - plan.login) / MIN - minutes - 60)) * MIN;
            } else imp = IMPOSTORS[1];
          }
          what = { port: imp.port, proto: imp.proto, process: imp.process, exe: imp.exe, user: imp.user };
        }
        const stop = start + minutes * MIN;
        if (start < earliest || stop > end || overlapsAny(start, stop, taken) || overlapsAny(start, stop, out)) continue;
        out.push({ kind, start, end: stop, what: JSON.stringify(what), ports: portsOf(kind, what) });
        k++;
        break;
      }
    }
  }
  return out;
}
