import type { Db } from '../../src/main/engine/store/database';

/**
 * The rule-only baseline of `bench/quality.ts`: what a careful rule engine, with no model, makes
 * of the same rounds. A round is flagged when
 *   (a) new-port: a (proto, port) never learned appears. UDP ports in the ephemeral range are
 *       client sockets the kernel numbered at random and are skipped, except one held in
 *       `persistentRounds` consecutive rounds (bound persistently, like a server);
 *   (b) unusual-hour: a known port is open at a local hour of day at which, counting the hour
 *       before and the hour after, it was open in fewer than `hourShare` of the learned rounds;
 *   (c) missing: a port open in at least `alwaysShare` of the learned rounds of the last
 *       `alwaysDays` days (when those are at least `alwaysMinRounds`) is not open;
 *   (d) new-owner: a known port is held by a process name or executable it was never learned
 *       with (a new pid is not a change; a socket whose owner the scanner cannot see is not one).
 * A UDP port of the ephemeral range is a port to these rules only while it is bound
 * persistently, known or not: a client socket that lands on a known server's port by chance is
 * not that server at an unusual hour.
 * The first `learningRounds` rounds are learned without judging. After that it learns from every
 * round it does not flag, and from flagged rounds the user approved (`RuleAlerter`), never from
 * others. Pure: rounds come in as rows; `readRuleRounds` reads them from a database.
 */
export interface RuleSocket {
  proto: 'tcp' | 'udp';
  port: number;
  process: string | null;
  exe: string | null;
}

export interface RuleRound {
  startedAt: number;
  sockets: readonly RuleSocket[];
}

export type RuleName = 'new-port' | 'unusual-hour' | 'missing' | 'new-owner';

export interface RuleReason {
  rule: RuleName;
  proto: 'tcp' | 'udp';
  port: number;
  /** The holder now, or for a missing port the one last learned. */
  process: string | null;
  exe: string | null;
}

export interface RuleOptions {
  learningRounds: number;
  ephemeralUdp: readonly [number, number];
  persistentRounds: number;
  hourShare: number;
  alwaysShare: number;
  alwaysDays: number;
  alwaysMinRounds: number;
  /** Longest step between rounds still treated as consecutive. */
  maxStepMs: number;
}

export const DEFAULT_RULE_OPTIONS: RuleOptions = {
  learningRounds: 1440,
  ephemeralUdp: [32_768, 65_535],
  persistentRounds: 10,
  hourShare: 0.01,
  alwaysShare: 0.99,
  alwaysDays: 3,
  alwaysMinRounds: 720,
  maxStepMs: 150_000,
};

interface Cell {
  key: string;
  proto: 'tcp' | 'udp';
  port: number;
  owners: { process: string | null; exe: string | null }[];
}

/** A judged round: what it holds (as the rules see it), and why it is flagged if it is. */
export interface Judged {
  startedAt: number;
  hour: number;
  day: number;
  cells: Cell[];
  reasons: RuleReason[];
  flagged: boolean;
}

interface Known {
  names: Set<string>;
  exes: Set<string>;
  /** Last learned holder, to name a missing port. */
  last: { process: string | null; exe: string | null };
}

const keyOf = (proto: string, port: number) => `${proto}/${port}`;

/** A local calendar day as a whole number (DST-safe: local midnights are 23 to 25 h apart). */
export function localDay(t: number): number {
  const d = new Date(t);
  return Math.round(new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() / 86_400_000);
}

export class RuleEngine {
  readonly options: RuleOptions;
  private readonly known = new Map<string, Known>();
  private readonly hourCounts = new Map<string, Float64Array>();
  private readonly hourTotals = new Float64Array(24);
  private readonly days = new Map<number, { rounds: number; counts: Map<string, number> }>();
  /** Consecutive rounds each UDP port of the ephemeral range has been held, up to the last judged round. */
  private runs = new Map<number, number>();
  private prevAt = -Infinity;
  learned = 0;

  constructor(options: Partial<RuleOptions> = {}) {
    this.options = { ...DEFAULT_RULE_OPTIONS, ...options };
  }

  get learning(): boolean {
    return this.learned < this.options.learningRounds;
  }

  /** Judges a round against what was learned. Rounds must come in time order, every one of them. */
  judge(round: RuleRound): Judged {
    const o = this.options;
    const [lo, hi] = o.ephemeralUdp;
    const consecutive = round.startedAt - this.prevAt <= o.maxStepMs;
    this.prevAt = round.startedAt;
    const runs = new Map<number, number>();
    const cells = new Map<string, Cell>();
    for (const s of round.sockets) {
      const key = keyOf(s.proto, s.port);
      if (s.proto === 'udp' && s.port >= lo && s.port <= hi) {
        if (!runs.has(s.port)) runs.set(s.port, (consecutive ? (this.runs.get(s.port) ?? 0) : 0) + 1);
        if (runs.get(s.port)! < o.persistentRounds) continue;
      }
      const c = cells.get(key) ?? { key, proto: s.proto, port: s.port, owners: [] };
      if (!c.owners.some((w) => w.process === s.process && w.exe === s.exe)) c.owners.push({ process: s.process, exe: s.exe });
      cells.set(key, c);
    }
    this.runs = runs;
    const d = new Date(round.startedAt);
    const judged: Judged = { startedAt: round.startedAt, hour: d.getHours(), day: localDay(round.startedAt), cells: [...cells.values()], reasons: [], flagged: false };
    if (this.learning) return judged;

    const reasons = judged.reasons;
    const tot = this.neighbourhood(this.hourTotals, judged.hour);
    for (const c of judged.cells) {
      const k = this.known.get(c.key);
      const owner = c.owners[0]!;
      if (!k) {
        reasons.push({ rule: 'new-port', proto: c.proto, port: c.port, ...owner });
        continue;
      }
      const counts = this.hourCounts.get(c.key);
      const n = counts ? this.neighbourhood(counts, judged.hour) : 0;
      if (tot > 0 && n < o.hourShare * tot) reasons.push({ rule: 'unusual-hour', proto: c.proto, port: c.port, ...owner });
      const changed = c.owners.find((w) => (w.process !== null && k.names.size > 0 && !k.names.has(w.process)) || (w.exe !== null && k.exes.size > 0 && !k.exes.has(w.exe)));
      if (changed) reasons.push({ rule: 'new-owner', proto: c.proto, port: c.port, ...changed });
    }
    for (const key of this.alwaysOpen(judged.day)) {
      if (cells.has(key)) continue;
      const [proto, port] = key.split('/') as ['tcp' | 'udp', string];
      reasons.push({ rule: 'missing', proto, port: Number(port), ...(this.known.get(key)?.last ?? { process: null, exe: null }) });
    }
    judged.flagged = reasons.length > 0;
    return judged;
  }

  /** Learns a judged round (one the rules did not flag, or one the user approved). */
  learn(j: Judged): void {
    this.learned++;
    this.hourTotals[j.hour]! += 1;
    let bucket = this.days.get(j.day);
    if (!bucket) {
      bucket = { rounds: 0, counts: new Map() };
      this.days.set(j.day, bucket);
      for (const day of this.days.keys()) if (day <= j.day - this.options.alwaysDays) this.days.delete(day);
    }
    bucket.rounds++;
    for (const c of j.cells) {
      const k = this.known.get(c.key) ?? { names: new Set<string>(), exes: new Set<string>(), last: c.owners[0]! };
      for (const w of c.owners) {
        if (w.process !== null) k.names.add(w.process);
        if (w.exe !== null) k.exes.add(w.exe);
      }
      k.last = c.owners[0]!;
      this.known.set(c.key, k);
      let counts = this.hourCounts.get(c.key);
      if (!counts) this.hourCounts.set(c.key, (counts = new Float64Array(24)));
      counts[j.hour]! += 1;
      bucket.counts.set(c.key, (bucket.counts.get(c.key) ?? 0) + 1);
    }
  }

  /** Judges a round and learns it unless it is flagged. */
  step(round: RuleRound): Judged {
    const j = this.judge(round);
    if (!j.flagged) this.learn(j);
    return j;
  }

  /** Ports open in at least `alwaysShare` of the learned rounds of the last `alwaysDays` days. */
  alwaysOpen(today: number): string[] {
    let rounds = 0;
    const counts = new Map<string, number>();
    for (const [day, b] of this.days) {
      if (day <= today - this.options.alwaysDays || day > today) continue;
      rounds += b.rounds;
      for (const [key, n] of b.counts) counts.set(key, (counts.get(key) ?? 0) + n);
    }
    if (rounds < this.options.alwaysMinRounds) return [];
    return [...counts].filter(([, n]) => n >= this.options.alwaysShare * rounds).map(([key]) => key);
  }

  /** Whether (proto, port) is a learned cell. */
  knows(proto: 'tcp' | 'udp', port: number): boolean {
    return this.known.has(keyOf(proto, port));
  }

  private neighbourhood(counts: Float64Array, hour: number): number {
    return counts[(hour + 23) % 24]! + counts[hour]! + counts[(hour + 1) % 24]!;
  }
}

/** A rule alert: one cause (a port) or the causes that began in the same round (a burst). */
export interface RuleAlert {
  start: number;
  end: number;
  /** By `proto/port`: the port, who held it when it was first flagged, and every rule it broke. */
  causes: Map<string, RuleReason & { rules: Set<RuleName> }>;
  decided: boolean;
  approved: boolean;
}

/**
 * Turns judged rounds into alerts, one per cause. A cause is a port: it stays one cause while it
 * is flagged in consecutive rounds, whatever rule flags it (a port first flagged as new, then,
 * once approved and known, as open at an unusual hour, is one alert). Causes that begin in the
 * same round are one alert; a cause that begins while another alert is open is a new alert, so
 * a service that is never approved and flagged all day does not swallow an intrusion that
 * happens meanwhile.
 *
 * At the end of each hour `settle` shows each new alert to the user once; the rounds flagged
 * since the last settle whose every cause belongs to an approved alert are then handed back to
 * be learned (a round that also shows an unapproved cause is not learned: that would learn the
 * unapproved cause with it).
 */
export class RuleAlerter {
  readonly alerts: RuleAlert[] = [];
  private open = new Map<string, RuleAlert>();
  private undecided: RuleAlert[] = [];
  private pending: { judged: Judged; alerts: RuleAlert[] }[] = [];
  private prevAt = -Infinity;

  constructor(private readonly maxStepMs = DEFAULT_RULE_OPTIONS.maxStepMs) {}

  add(j: Judged): void {
    if (j.startedAt - this.prevAt > this.maxStepMs) this.open.clear();
    this.prevAt = j.startedAt;
    const causes = new Map<string, RuleReason[]>();
    for (const r of j.reasons) {
      const key = keyOf(r.proto, r.port);
      causes.set(key, [...(causes.get(key) ?? []), r]);
    }
    for (const key of [...this.open.keys()]) if (!causes.has(key)) this.open.delete(key);
    if (causes.size === 0) return;
    let fresh: RuleAlert | null = null;
    const mine = new Set<RuleAlert>();
    for (const [key, reasons] of causes) {
      let a = this.open.get(key);
      if (!a) {
        if (!fresh) {
          fresh = { start: j.startedAt, end: j.startedAt, causes: new Map(), decided: false, approved: false };
          this.alerts.push(fresh);
          this.undecided.push(fresh);
        }
        a = fresh;
        this.open.set(key, a);
      }
      a.end = j.startedAt;
      const c = a.causes.get(key) ?? { ...reasons[0]!, rules: new Set<RuleName>() };
      for (const r of reasons) c.rules.add(r.rule);
      a.causes.set(key, c);
      mine.add(a);
    }
    this.pending.push({ judged: j, alerts: [...mine] });
  }

  /** Shows each new alert to `review` (null: nobody looks) and returns the rounds to learn. */
  settle(review: ((a: RuleAlert) => boolean) | null): Judged[] {
    for (const a of this.undecided) {
      a.approved = review ? review(a) : false;
      a.decided = true;
    }
    this.undecided = [];
    const learn = this.pending.filter((p) => p.alerts.every((a) => a.approved)).map((p) => p.judged);
    this.pending = [];
    return learn;
  }
}

/** The rounds that started in [from, to), with their sockets and owners, in time order. */
export function readRuleRounds(db: Db, from: number, to: number): RuleRound[] {
  const rounds = db
    .prepare<[number, number], { id: number; startedAt: number }>(
      "SELECT id, started_at AS startedAt FROM rounds WHERE started_at >= ? AND started_at < ? AND status = 'ok' ORDER BY started_at, id",
    )
    .all(from, to);
  if (rounds.length === 0) return [];
  const byId = new Map(rounds.map((r) => [r.id, { startedAt: r.startedAt, sockets: [] as RuleSocket[] }]));
  // Bounds on round_id reach both halves of the view (rows and runs, migration 012).
  const sockets = db
    .prepare<[number, number], { roundId: number; proto: 'tcp' | 'udp'; port: number; process: string | null; exe: string | null }>(
      `SELECT rp.round_id AS roundId, p.proto, p.port, pr.name AS process, pr.exe
       FROM round_sockets rp JOIN ports p ON p.id = rp.port_id LEFT JOIN processes pr ON pr.id = rp.process_id
       WHERE rp.round_id BETWEEN ? AND ?`,
    )
    .iterate(rounds.reduce((m, r) => Math.min(m, r.id), Infinity), rounds.reduce((m, r) => Math.max(m, r.id), -Infinity));
  for (const s of sockets) byId.get(s.roundId)?.sockets.push({ proto: s.proto, port: s.port, process: s.process, exe: s.exe });
  return [...byId.values()];
}
