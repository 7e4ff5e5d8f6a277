import { isMulticastOrBroadcast } from '../../src/main/engine/collect/capture/flows';
import type { Db } from '../../src/main/engine/store/database';
import type { DetectorOptions, TrafficAlert } from './evaluate';

/**
 * The two baselines the traffic model has to beat, read straight from the database the bench
 * wrote, each as strong as its definition allows and causal (a round is judged with what came
 * before it, so an alert's start is when it would have been raised).
 */

const HOUR = 3_600_000;
const SYN = 0x02;
const ACK = 0x10;

interface FlowRow {
  round: number;
  ts: number;
  proto: string;
  localAddr: string;
  localPort: number | null;
  remoteAddr: string;
  remotePort: number | null;
  direction: 'outbound' | 'inbound' | 'local' | 'transit';
  bytes: number;
  flags: number;
  processId: number | null;
}

const FLOWS_SQL = `SELECT round_id AS round, first_ts AS ts, proto, local_addr AS localAddr, local_port AS localPort, remote_addr AS remoteAddr,
  remote_port AS remotePort, direction, bytes, tcp_flags AS flags, process_id AS processId FROM flows ORDER BY round_id, first_ts`;

function processNames(db: Db): Map<number, string> {
  return new Map(db.prepare<[], { id: number; name: string | null }>('SELECT id, name FROM processes').all().map((p) => [p.id, p.name ?? `#${p.id}`]));
}

function roundTimes(db: Db): { id: number; at: number }[] {
  return db.prepare<[], { id: number; at: number }>("SELECT id, started_at AS at FROM rounds WHERE status = 'ok' ORDER BY id").all();
}

/** The destination a flow is about: the peer of an accepted connection, else the remote service. */
function flowDestination(f: Pick<FlowRow, 'localPort' | 'remoteAddr' | 'remotePort'>): string {
  if (f.localPort !== null && f.remotePort !== null && f.localPort < f.remotePort) return `in|${f.remoteAddr}`;
  return `${f.remoteAddr}|${f.remotePort ?? '-'}`;
}

interface Bucket {
  alert: TrafficAlert & { remotes: string[]; domains: string[] };
  pids: Set<number | null>;
}

/**
 * (a) "Destination never seen for this process": a process (by its processes row: name, exe,
 * user; traffic no scan could attribute is one more "process") talks to a remote end it never
 * talked to before, counting everything since the database began. A remote end is known by its
 * address and port and by the name the machine resolved for it (an address that changed behind a
 * known name is not new; a new name on a known address is not either), and the peer of an
 * accepted connection by its address. Its sightings are the connection spans (the scan) and the
 * captured flows. One alert per process per clock hour, listing every new remote end of that
 * hour: one alert per remote end would be a straw man (a page load brings several).
 */
export function neverSeen(db: Db, o: DetectorOptions): TrafficAlert[] {
  const names = processNames(db);
  const at = new Map(roundTimes(db).map((r) => [r.id, r.at]));
  const nameOf = new Map<string, string>();
  for (const e of db.prepare<[], { address: string; name: string }>('SELECT address, name FROM remote_endpoints WHERE name IS NOT NULL').all()) nameOf.set(e.address, e.name);
  const spans = db
    .prepare<[], { round: number; direction: 'in' | 'out'; pid: number | null; processId: number | null; address: string; port: number; name: string | null }>(
      `SELECT s.first_round_id AS round, s.direction, s.pid, s.process_id AS processId, e.address, e.port, e.name
       FROM connection_spans s JOIN remote_endpoints e ON e.id = s.endpoint_id ORDER BY s.first_round_id, s.id`,
    )
    .all();
  const known = new Map<string, Set<string>>();
  const buckets = new Map<string, Bucket>();
  const alerts: TrafficAlert[] = [];
  const sight = (ts: number, processId: number | null, pid: number | null, keys: string[], address: string, name: string | null) => {
    const who = processId === null ? 'none' : String(processId);
    let set = known.get(who);
    if (!set) known.set(who, (set = new Set()));
    if (keys.some((k) => set.has(k))) {
      for (const k of keys) set.add(k);
      return;
    }
    for (const k of keys) set.add(k);
    if (ts < o.learningEnd) return;
    const key = `${who}|${Math.floor((ts - o.start) / HOUR)}`;
    let b = buckets.get(key);
    if (!b) {
      b = { alert: { start: ts, end: ts, raisedAt: ts, process: processId === null ? null : (names.get(processId) ?? null), remotes: [], domains: [], kind: 'new-destination' }, pids: new Set() };
      buckets.set(key, b);
      alerts.push(b.alert);
    }
    b.alert.end = Math.max(b.alert.end, ts);
    if (!b.alert.remotes.includes(address)) b.alert.remotes.push(address);
    if (name && !b.alert.domains.includes(name)) b.alert.domains.push(name);
    b.pids.add(pid);
  };
  let s = 0;
  const spansUpTo = (round: number) => {
    for (; s < spans.length && spans[s]!.round <= round; s++) {
      const x = spans[s]!;
      const ts = at.get(x.round) ?? 0;
      const keys = x.direction === 'in' ? [`in|${x.address}`] : [`${x.address}|${x.port}`, ...(x.name ? [`${x.name}|${x.port}`] : [])];
      sight(ts, x.processId, x.pid, keys, x.address, x.direction === 'in' ? null : x.name);
    }
  };
  for (const f of db.prepare<[], FlowRow>(FLOWS_SQL).iterate()) {
    spansUpTo(f.round);
    if (f.direction !== 'outbound' && f.direction !== 'inbound') continue;
    const dest = flowDestination(f);
    const name = dest.startsWith('in|') ? null : (nameOf.get(f.remoteAddr) ?? null);
    sight(f.ts, f.processId, null, [dest, ...(name ? [`${name}|${f.remotePort ?? '-'}`] : [])], f.remoteAddr, name);
  }
  spansUpTo(Infinity);
  for (const b of buckets.values()) {
    const pids = [...b.pids].filter((p) => p !== null);
    if (pids.length === 1 && !b.pids.has(null)) b.alert.pid = pids[0]!;
  }
  return alerts.sort((a, b) => a.start - b.start);
}

/**
 * Constants of the fixed-threshold rule (b), and why:
 * - BEACON_MIN_STARTS 6 connection starts to one remote end within the last hour: a check-in every
 *   ten minutes or faster. Slower beacons need a longer window than a rule judging the last hour has.
 * - BEACON_MAX_CV 0.3, the coefficient of variation of the gaps between those starts: uniform
 *   jitter of ±j gives j/√3, so up to ±50 % jitter stays under it, while connections people cause
 *   (page loads, git) come at Poisson-like gaps, CV near 1.
 * - VOLUME_K 10: bytes out of a process in the last hour above 10 × the median of its past hours
 *   with traffic. A process's hourly upload varies by a few times from hour to hour; 10 leaves room
 *   and still sees 50 ×. VOLUME_FLOOR 1 MB: smaller hours are noise on any line (10 × a 10 kB
 *   hour is nothing). VOLUME_MIN_HOURS 6: no judgement on fewer past hours.
 * - ATTEMPTS_FLOOR 50: unsolicited inbound attempts this machine answered for no process (a bare
 *   SYN, or UDP from a client port to a unicast address of ours) in the last hour, above
 *   max(50, 10 × the median hour). The same volume rule on connection attempts instead of bytes;
 *   a desktop behind a router sees almost none.
 * - GAP 60 minutes: flags about the same subject (remote end, process, or the host's inbound
 *   attempts) less than an hour apart are one alert.
 */
export const RULE = { BEACON_MIN_STARTS: 6, BEACON_MAX_CV: 0.3, VOLUME_K: 10, VOLUME_FLOOR: 1e6, VOLUME_MIN_HOURS: 6, ATTEMPTS_FLOOR: 50, GAP: HOUR } as const;

class SortedList {
  readonly xs: number[] = [];

  add(x: number): void {
    let lo = 0;
    let hi = this.xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.xs[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    this.xs.splice(lo, 0, x);
  }

  median(): number {
    const n = this.xs.length;
    return n % 2 ? this.xs[n >> 1]! : (this.xs[n / 2 - 1]! + this.xs[n / 2]!) / 2;
  }
}

/** Per subject, flags less than GAP apart make one alert. */
class Flags {
  private readonly open = new Map<string, TrafficAlert>();
  readonly alerts: TrafficAlert[] = [];

  /** `remotes`: what the subject talks with now; an alert that goes on names everything it covered. */
  flag(subject: string, ts: number, make: () => TrafficAlert, learningEnd: number, remotes: readonly string[] = []): void {
    const a = this.open.get(subject);
    if (a && ts - a.end <= RULE.GAP) {
      a.end = ts;
      const named = a.remotes as string[];
      for (const r of remotes) if (!named.includes(r)) named.push(r);
      return;
    }
    const fresh = make();
    this.open.set(subject, fresh);
    // Flags in the learning day still open an alert (so one running across its end is one alert), but it is not reported.
    if (ts >= learningEnd) this.alerts.push(fresh);
  }
}

/** Keeps the last hour of something per round: a ring of per-round maps. */
class LastHour {
  private readonly ring: Map<string, number>[] = [];

  push(m: Map<string, number>): void {
    this.ring.push(m);
    if (this.ring.length > 60) this.ring.shift();
  }

  total(key: string): number {
    let s = 0;
    for (const m of this.ring) s += m.get(key) ?? 0;
    return s;
  }

  sum(): number {
    let s = 0;
    for (const m of this.ring) for (const v of m.values()) s += v;
    return s;
  }

  top(keyPrefix: string, n: number): string[] {
    const sums = new Map<string, number>();
    for (const m of this.ring) for (const [k, v] of m) if (k.startsWith(keyPrefix)) sums.set(k.slice(keyPrefix.length), (sums.get(k.slice(keyPrefix.length)) ?? 0) + v);
    return [...sums].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k]) => k);
  }
}

/** Unsolicited: a bare SYN, or UDP from a client port to one of our unicast addresses, for no process. */
const unsolicited = (f: FlowRow) =>
  f.direction === 'inbound' && f.processId === null && ((f.proto === 'tcp' && (f.flags & (SYN | ACK)) === SYN) || (f.proto === 'udp' && !isMulticastOrBroadcast(f.localAddr) && (f.remotePort ?? 0) >= 1024));

/**
 * (b) A fixed-threshold beacon and volume rule, judged every round over the last hour (constants
 * in RULE): many connection starts to one remote end at regular gaps (beacon); a process sending
 * far more than its usual hour (volume); many unsolicited inbound attempts (volume of attempts).
 */
export function beaconVolumeRule(db: Db, o: DetectorOptions): TrafficAlert[] {
  const names = processNames(db);
  const rounds = roundTimes(db);
  const flows = db.prepare<[], FlowRow>(FLOWS_SQL).iterate();
  let pending: FlowRow | undefined = flows.next().value as FlowRow | undefined;
  const flags = new Flags();
  const starts = new Map<string, number[]>();
  const lastProcess = new Map<string, string | null>();
  let previousUdp = new Set<string>();
  const out = new LastHour();
  const attempts = new LastHour();
  const hourTotals = new Map<string, number>();
  const history = new Map<string, SortedList>();
  const attemptHistory = new SortedList();
  let attemptsThisHour = 0;
  let hour = -1;
  const closedHours: { totals: Map<string, number>; attempts: number }[] = [];
  for (const r of rounds) {
    const h = Math.floor((r.at - o.start) / HOUR);
    if (h !== hour) {
      // An hour joins the history one hour after it ended, so it never overlaps the window judged.
      closedHours.push({ totals: new Map(hourTotals), attempts: attemptsThisHour });
      if (closedHours.length > 2) {
        const old = closedHours.shift()!;
        for (const [k, v] of old.totals) if (v > 0) (history.get(k) ?? history.set(k, new SortedList()).get(k)!).add(v);
        attemptHistory.add(old.attempts);
      }
      hourTotals.clear();
      attemptsThisHour = 0;
      hour = h;
    }
    const outNow = new Map<string, number>();
    const attemptsNow = new Map<string, number>();
    const udpNow = new Set<string>();
    while (pending && pending.round <= r.id) {
      const f = pending;
      pending = flows.next().value as FlowRow | undefined;
      if (f.round < r.id) continue;
      const who = f.processId === null ? 'none' : String(f.processId);
      if (f.direction === 'outbound') {
        outNow.set(who, (outNow.get(who) ?? 0) + f.bytes);
        outNow.set(`${who}>${f.remoteAddr}`, (outNow.get(`${who}>${f.remoteAddr}`) ?? 0) + f.bytes);
        hourTotals.set(who, (hourTotals.get(who) ?? 0) + f.bytes);
        const tuple = `${f.localPort}|${f.remoteAddr}|${f.remotePort}`;
        if (f.proto === 'udp') udpNow.add(tuple);
        const isStart = f.proto === 'tcp' ? (f.flags & SYN) !== 0 : f.proto === 'udp' && !previousUdp.has(tuple);
        if (isStart) beaconStart(f, who);
      }
      if (unsolicited(f)) {
        attemptsNow.set(f.remoteAddr, (attemptsNow.get(f.remoteAddr) ?? 0) + 1);
        attemptsThisHour++;
      }
    }
    previousUdp = udpNow;
    out.push(outNow);
    attempts.push(attemptsNow);
    // Volume: every process that sent anything in the last hour.
    for (const who of new Set([...hourTotals.keys()])) {
      const past = history.get(who);
      if (!past || past.xs.length < RULE.VOLUME_MIN_HOURS) continue;
      const sent = out.total(who);
      if (sent < RULE.VOLUME_FLOOR || sent <= RULE.VOLUME_K * past.median()) continue;
      const top = out.top(`${who}>`, 3);
      flags.flag(`volume|${who}`, r.at, () => ({ start: r.at, end: r.at, raisedAt: r.at, process: who === 'none' ? null : (names.get(Number(who)) ?? null), remotes: [...top], kind: 'volume', detail: `${Math.round(sent / 1e3)} kB out in an hour, usual ${Math.round(past.median() / 1e3)} kB` }), o.learningEnd, top);
    }
    const attemptsHour = attempts.sum();
    if (attemptsHour >= Math.max(RULE.ATTEMPTS_FLOOR, RULE.VOLUME_K * (attemptHistory.xs.length ? attemptHistory.median() : 0))) {
      const top = attempts.top('', 3);
      flags.flag('attempts', r.at, () => ({ start: r.at, end: r.at, raisedAt: r.at, process: null, remotes: [...top], kind: 'inbound-attempts', detail: `${attemptsHour} unsolicited inbound attempts in an hour` }), o.learningEnd, top);
    }
  }

  function beaconStart(f: FlowRow, who: string): void {
    // A group address is not a host to call home to: mDNS and SSDP announcements are periodic by design.
    if (isMulticastOrBroadcast(f.remoteAddr)) return;
    const endpoint = `${f.proto}|${f.remoteAddr}|${f.remotePort}`;
    if (who !== 'none') lastProcess.set(endpoint, names.get(Number(who)) ?? null);
    const list = starts.get(endpoint) ?? [];
    list.push(f.ts);
    while (list.length && list[0]! < f.ts - HOUR) list.shift();
    starts.set(endpoint, list);
    if (list.length < RULE.BEACON_MIN_STARTS) return;
    const gaps = list.slice(1).map((t, i) => t - list[i]!);
    const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length);
    if (mean <= 0 || sd / mean >= RULE.BEACON_MAX_CV) return;
    flags.flag(`beacon|${endpoint}`, f.ts, () => ({ start: f.ts, end: f.ts, raisedAt: f.ts, process: lastProcess.get(endpoint) ?? null, remotes: [f.remoteAddr], kind: 'beacon', detail: `${list.length} connections in an hour every ${Math.round(mean / 1000)} s (CV ${(sd / mean).toFixed(2)})` }), o.learningEnd);
  }

  return flags.alerts.sort((a, b) => a.start - b.start);
}
