import type { SocketEntry } from '../../src/main/engine/collect/sockets/types';
import { seededRandom } from '../../src/shared/random';

/**
 * A simulated desktop's port history, one round a minute, and the incidents injected into it.
 * Documented in docs/detection.md ("The quality benchmark"). Everything is in local time, like
 * the people whose machines these are; the same seed gives the same week.
 */
export type IncidentKind = 'new-listener' | 'vanished' | 'unusual-hour' | 'burst';

export interface Injected {
  kind: IncidentKind;
  start: number;
  end: number;
  what: string;
}

export interface GeneratedRound {
  startedAt: number;
  sockets: SocketEntry[];
}

interface Service {
  proto: 'tcp' | 'udp';
  port: number;
  process: string;
  exe: string;
  pid: number;
  address?: string;
}

const svc = (proto: 'tcp' | 'udp', port: number, process: string, exe: string, pid: number, address = proto === 'tcp' ? '0.0.0.0' : '0.0.0.0'): Service => ({ proto, port, process, exe, pid, address });

/** Always on: system daemons. */
const SYSTEM: Service[] = [
  svc('tcp', 22, 'sshd', '/usr/sbin/sshd', 801),
  svc('tcp', 631, 'cupsd', '/usr/sbin/cupsd', 822, '127.0.0.1'),
  svc('tcp', 53, 'systemd-resolve', '/usr/lib/systemd/systemd-resolved', 412, '127.0.0.53'),
  svc('udp', 53, 'systemd-resolve', '/usr/lib/systemd/systemd-resolved', 412, '127.0.0.53'),
  svc('udp', 5353, 'avahi-daemon', '/usr/sbin/avahi-daemon', 640),
  svc('udp', 323, 'chronyd', '/usr/sbin/chronyd', 655, '127.0.0.1'),
  svc('udp', 68, 'dhclient', '/usr/sbin/dhclient', 700),
  svc('tcp', 5432, 'postgres', '/usr/lib/postgresql/15/bin/postgres', 950, '127.0.0.1'),
  svc('tcp', 25, 'exim4', '/usr/sbin/exim4', 990, '127.0.0.1'),
];

/** Started at login, gone at logout. */
const SESSION: Service[] = [
  svc('tcp', 22000, 'syncthing', '/usr/bin/syncthing', 2301),
  svc('udp', 21027, 'syncthing', '/usr/bin/syncthing', 2301),
  svc('tcp', 8384, 'syncthing', '/usr/bin/syncthing', 2301, '127.0.0.1'),
  svc('tcp', 1716, 'kdeconnectd', '/usr/bin/kdeconnectd', 2350),
  svc('udp', 1716, 'kdeconnectd', '/usr/bin/kdeconnectd', 2350),
  svc('tcp', 57621, 'spotify', '/usr/share/spotify/spotify', 2400),
  svc('tcp', 6463, 'Discord', '/usr/share/discord/Discord', 2450, '127.0.0.1'),
];

const DEV_SERVER = svc('tcp', 3000, 'node', '/usr/bin/node', 3100, '127.0.0.1');
const VITE = svc('tcp', 5173, 'node', '/usr/bin/node', 3200, '127.0.0.1');
const DJANGO = svc('tcp', 8000, 'python3', '/usr/bin/python3.11', 3300, '127.0.0.1');
const BACKUP = svc('tcp', 8200, 'backup-agent', '/opt/backup/bin/backup-agent', 4100, '127.0.0.1');

const toSocket = (s: Service, pid = s.pid): SocketEntry => ({ proto: s.proto, family: 4, address: s.address ?? '0.0.0.0', port: s.port, pid, process: s.process, exe: s.exe, user: s.port < 1024 ? 'root' : 'alice' });

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

const MIN = 60_000;
const HOUR = 60 * MIN;

function localTime(dayStart: number, hours: number, jitterMin: number, random: () => number): number {
  return dayStart + hours * HOUR + Math.round((random() * 2 - 1) * jitterMin) * MIN;
}

/** Midnight `d` days after `start`, in local time (DST-safe). */
function dayStartOf(start: number, d: number): number {
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

const within = (t: number, span: [number, number] | null | undefined) => !!span && t >= span[0] && t < span[1];

export interface Generated {
  rounds: GeneratedRound[];
  injected: Injected[];
}

/**
 * Generates the week. Incidents are spread over the days after `quietHours`, at least two
 * hours apart, cycling through the four kinds, 2 to 3 a day.
 */
export function generate(o: GeneratorOptions): Generated {
  const random = seededRandom(o.seed ?? 7);
  const end = dayStartOf(o.start, o.days);
  const plans = new Map<number, DayPlan>();
  for (let d = 0; d < o.days; d++) plans.set(d, planDay(dayStartOf(o.start, d), random));
  const dayIndex = (t: number) => {
    for (let d = o.days - 1; d >= 0; d--) if (t >= dayStartOf(o.start, d)) return d;
    return 0;
  };
  const injected = planIncidents(o, plans, random);
  const rounds: GeneratedRound[] = [];
  for (let t = o.start; t < end; t += MIN) {
    const plan = plans.get(dayIndex(t))!;
    const inSession = plan.login !== null && t >= plan.login && t < plan.logout!;
    const active: Service[] = [...SYSTEM];
    if (inSession) active.push(...SESSION);
    if (plan.dev.some((s) => within(t, s))) active.push(DEV_SERVER);
    if (within(t, plan.vite)) active.push(VITE);
    if (within(t, plan.django)) active.push(DJANGO);
    if (within(t, plan.backup)) active.push(BACKUP);
    let sockets = active.map((s) => toSocket(s));
    for (const inc of injected) {
      if (t < inc.start || t >= inc.end) continue;
      sockets = applyIncident(inc, sockets, t);
    }
    // Ephemeral UDP client sockets: browsers, DNS-over-QUIC, games; many more during a session.
    const n = poisson(inSession ? 8 : 1.5, random);
    for (let i = 0; i < n; i++) {
      const port = 32_768 + Math.floor(random() * (60_999 - 32_768));
      sockets.push({ proto: 'udp', family: 4, address: '0.0.0.0', port, pid: 2500 + i, process: 'firefox', exe: '/usr/lib/firefox/firefox', user: 'alice' });
    }
    rounds.push({ startedAt: t, sockets });
  }
  return { rounds, injected };
}

function poisson(lambda: number, random: () => number): number {
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= random();
  } while (p > l);
  return k - 1;
}

const BURST_PORTS = (seed: number) => Array.from({ length: 30 }, (_, i) => 10_000 + ((seed * 7919 + i * 613) % 20_000));

function applyIncident(inc: Injected, sockets: SocketEntry[], _t: number): SocketEntry[] {
  const spec = JSON.parse(inc.what) as { port?: number; proto?: 'tcp' | 'udp'; seed?: number; service?: string };
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
  }
}

/**
 * Incident times: after the quiet (learning) hours, cycling through the kinds, with times of day
 * chosen so that each kind means what it says (a service vanishes while it is normally up; a
 * service appears at an hour it never runs).
 */
function planIncidents(o: GeneratorOptions, plans: Map<number, DayPlan>, random: () => number): Injected[] {
  const out: Injected[] = [];
  const earliest = o.start + (o.quietHours ?? 24) * HOUR;
  const kinds: IncidentKind[] = ['new-listener', 'vanished', 'unusual-hour', 'burst'];
  const unusualPorts = [4444, 31_337, 1337, 6667, 12_345, 2222, 9001];
  let k = 0;
  for (let d = 0; d < o.days; d++) {
    const dayStart = dayStartOf(o.start, d);
    const plan = plans.get(d)!;
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
        case 'burst':
          start = localTime(dayStart, slot === 0 ? 11 : 20, 60, random);
          minutes = 5 + Math.floor(random() * 10);
          what = { seed: k };
          break;
      }
      if (start < earliest) continue;
      const end = start + minutes * MIN;
      if (out.some((i) => start < i.end + 2 * HOUR && end > i.start - 2 * HOUR)) continue;
      out.push({ kind, start, end, what: JSON.stringify(what) });
      k++;
    }
  }
  return out.sort((a, b) => a.start - b.start);
}
