import { describe, expect, it } from 'vitest';
import { RuleAlerter, RuleEngine, type RuleRound, type RuleSocket } from '../../bench/quality/rules';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** A Monday, local midnight. */
const T0 = new Date(2026, 2, 2).getTime();

const sock = (proto: 'tcp' | 'udp', port: number, process: string | null = 'd', exe: string | null = `/usr/sbin/${process}`): RuleSocket => ({ proto, port, process, exe });
const SSHD = sock('tcp', 22, 'sshd', '/usr/sbin/sshd');
const round = (t: number, sockets: RuleSocket[]): RuleRound => ({ startedAt: t, sockets });

/** Learns a day of rounds: sshd always, a web server 09:00-17:00. */
function learnedEngine(options = {}): RuleEngine {
  const e = new RuleEngine({ learningRounds: 24 * 60, ...options });
  for (let t = T0; t < T0 + 24 * HOUR; t += MIN) {
    const h = new Date(t).getHours();
    e.step(round(t, h >= 9 && h < 17 ? [SSHD, sock('tcp', 8080, 'nginx')] : [SSHD]));
  }
  expect(e.learning).toBe(false);
  return e;
}

const rulesOf = (e: RuleEngine, r: RuleRound) => e.judge(r).reasons.map((x) => `${x.rule} ${x.proto}/${x.port}`);

describe('RuleEngine', () => {
  it('learns without judging during learning, then judges', () => {
    const e = new RuleEngine({ learningRounds: 3 });
    expect(e.step(round(T0, [sock('tcp', 1)])).flagged).toBe(false);
    e.step(round(T0 + MIN, [sock('tcp', 1)]));
    e.step(round(T0 + 2 * MIN, [sock('tcp', 1)]));
    expect(e.learning).toBe(false);
    expect(e.step(round(T0 + 3 * MIN, [sock('tcp', 1), sock('tcp', 2)])).reasons.map((r) => r.port)).toEqual([2]);
  });

  it('(a) flags a never-seen port, and keeps flagging it while it is never learned', () => {
    const e = learnedEngine();
    const t = T0 + 24 * HOUR + 3 * HOUR;
    expect(rulesOf(e, round(t, [SSHD, sock('tcp', 4444, 'x', '/tmp/.x/x')]))).toEqual(['new-port tcp/4444']);
    expect(e.step(round(t + MIN, [SSHD, sock('tcp', 4444, 'x', '/tmp/.x/x')])).flagged).toBe(true);
    expect(e.step(round(t + 2 * MIN, [SSHD, sock('tcp', 4444, 'x', '/tmp/.x/x')])).flagged).toBe(true);
  });

  it('(a) skips ephemeral UDP client sockets but flags a high UDP port bound persistently', () => {
    const e = learnedEngine({ persistentRounds: 5 });
    let t = T0 + 24 * HOUR + 3 * HOUR;
    // A new client port every round: never flagged.
    for (let i = 0; i < 20; i++, t += MIN) expect(e.step(round(t, [SSHD, sock('udp', 40_000 + i, 'firefox')])).flagged).toBe(false);
    const flags: boolean[] = [];
    for (let i = 0; i < 8; i++, t += MIN) flags.push(e.step(round(t, [SSHD, sock('udp', 51_999, 'x', '/tmp/.x/x')])).flagged);
    expect(flags).toEqual([false, false, false, false, true, true, true, true]);
  });

  it('(a) a gap between rounds restarts the count of a high UDP port', () => {
    const e = learnedEngine({ persistentRounds: 3 });
    const t = T0 + 24 * HOUR + 3 * HOUR;
    e.step(round(t, [SSHD, sock('udp', 50_000, 'x')]));
    e.step(round(t + MIN, [SSHD, sock('udp', 50_000, 'x')]));
    expect(e.step(round(t + 10 * MIN, [SSHD, sock('udp', 50_000, 'x')])).flagged).toBe(false);
  });

  it('(b) flags a known port at an hour it was never open, with a one-hour neighbourhood', () => {
    const e = learnedEngine();
    const day = T0 + 24 * HOUR;
    expect(rulesOf(e, round(day + 3 * HOUR, [SSHD, sock('tcp', 8080, 'nginx')]))).toEqual(['unusual-hour tcp/8080']);
    // 17:30 is next to 16:00-17:00, where it was open.
    expect(rulesOf(e, round(day + 17.5 * HOUR, [SSHD, sock('tcp', 8080, 'nginx')]))).toEqual([]);
    expect(rulesOf(e, round(day + 18.5 * HOUR, [SSHD, sock('tcp', 8080, 'nginx')]))).toEqual(['unusual-hour tcp/8080']);
  });

  it('(c) flags an always-open port that is missing, naming its last holder', () => {
    const e = learnedEngine();
    const j = e.judge(round(T0 + 24 * HOUR + 3 * HOUR, []));
    expect(j.reasons).toEqual([{ rule: 'missing', proto: 'tcp', port: 22, process: 'sshd', exe: '/usr/sbin/sshd' }]);
    // The web server is open a third of the time: its absence says nothing.
    expect(rulesOf(e, round(T0 + 24 * HOUR + 10 * HOUR, [SSHD]))).toEqual([]);
  });

  it('(d) flags a known port held by another process name or executable, not a new pid', () => {
    const e = learnedEngine();
    const t = T0 + 24 * HOUR + 3 * HOUR;
    expect(rulesOf(e, round(t, [sock('tcp', 22, 'sshd', '/tmp/.x/sshd')]))).toEqual(['new-owner tcp/22']);
    expect(rulesOf(e, round(t, [sock('tcp', 22, 'python3', '/usr/bin/python3.11')]))).toEqual(['new-owner tcp/22']);
    expect(rulesOf(e, round(t, [{ ...SSHD }]))).toEqual([]);
    // An owner the scanner cannot see is not a change.
    expect(rulesOf(e, round(t, [sock('tcp', 22, null, null)]))).toEqual([]);
  });

  it('learns from the rounds it does not flag only', () => {
    const e = learnedEngine();
    const t = T0 + 24 * HOUR + 3 * HOUR;
    const flagged = e.step(round(t, [SSHD, sock('tcp', 4444, 'x')]));
    expect(flagged.flagged).toBe(true);
    expect(e.knows('tcp', 4444)).toBe(false);
    e.learn(flagged); // approved
    expect(e.knows('tcp', 4444)).toBe(true);
    // Known now; but one round is a tiny share of the hour's learned rounds.
    expect(rulesOf(e, round(t + MIN, [SSHD, sock('tcp', 4444, 'x')]))).toEqual(['unusual-hour tcp/4444']);
    for (let i = 0; i < 5; i++) e.learn(e.judge(round(t + (2 + i) * MIN, [SSHD, sock('tcp', 4444, 'x')])));
    expect(rulesOf(e, round(t + 8 * MIN, [SSHD, sock('tcp', 4444, 'x')]))).toEqual([]);
  });
});

describe('RuleAlerter', () => {
  const judged = (e: RuleEngine, t: number, sockets: RuleSocket[]) => e.step(round(t, sockets));

  it('makes one alert per cause: a cause beginning during another alert is its own alert', () => {
    const e = learnedEngine();
    const a = new RuleAlerter();
    const t = T0 + 24 * HOUR + 10 * HOUR;
    for (let i = 0; i < 30; i++) a.add(judged(e, t + i * MIN, [SSHD, sock('tcp', 3001, 'node'), ...(i >= 10 && i < 15 ? [sock('tcp', 4444, 'x')] : [])]));
    expect(a.alerts.map((x) => [(x.start - t) / MIN, (x.end - t) / MIN, [...x.causes.keys()]])).toEqual([
      [0, 29, ['tcp/3001']],
      [10, 14, ['tcp/4444']],
    ]);
  });

  it('causes beginning in the same round are one alert (a burst)', () => {
    const e = learnedEngine();
    const a = new RuleAlerter();
    const t = T0 + 24 * HOUR + 10 * HOUR;
    a.add(judged(e, t, [SSHD, ...[10_001, 10_002, 10_003].map((p) => sock('tcp', p, 'scanner'))]));
    expect(a.alerts).toHaveLength(1);
    expect(a.alerts[0]!.causes.size).toBe(3);
  });

  it('a port flagged first as new, then at an unusual hour, stays one alert', () => {
    const e = learnedEngine();
    const a = new RuleAlerter();
    const t = T0 + 24 * HOUR + 3 * HOUR;
    const first = judged(e, t, [SSHD, sock('tcp', 3001, 'node')]);
    a.add(first);
    e.learn(first); // approved: known now, but one round is a tiny share of the hour
    a.add(judged(e, t + MIN, [SSHD, sock('tcp', 3001, 'node')]));
    expect(a.alerts).toHaveLength(1);
    expect(a.alerts[0]!.causes.get('tcp/3001')!.rules).toEqual(new Set(['new-port', 'unusual-hour']));
    // After a gap it is a new alert.
    a.add(judged(e, t + 3 * HOUR, [SSHD, sock('tcp', 3001, 'node')]));
    expect(a.alerts).toHaveLength(2);
  });

  it('settle shows each new alert once and returns only rounds whose every cause is approved', () => {
    const e = learnedEngine();
    const a = new RuleAlerter();
    const t = T0 + 24 * HOUR + 10 * HOUR;
    const rounds = Array.from({ length: 6 }, (_, i) => judged(e, t + i * MIN, [SSHD, sock('tcp', 3001, 'node'), ...(i >= 3 ? [sock('tcp', 4444, 'x')] : [])]));
    rounds.forEach((r) => a.add(r));
    const seen: string[][] = [];
    const learn = a.settle((alert) => {
      seen.push([...alert.causes.keys()]);
      return alert.causes.has('tcp/3001');
    });
    expect(seen).toEqual([['tcp/3001'], ['tcp/4444']]);
    expect(learn.map((j) => (j.startedAt - t) / MIN)).toEqual([0, 1, 2]);
    expect(a.settle(() => true)).toEqual([]);
  });

  it('without a user nothing is approved and nothing flagged is learned', () => {
    const e = learnedEngine();
    const a = new RuleAlerter();
    a.add(judged(e, T0 + 30 * HOUR, [SSHD, sock('tcp', 3001, 'node')]));
    expect(a.settle(null)).toEqual([]);
    expect(a.alerts[0]!.decided).toBe(true);
    expect(a.alerts[0]!.approved).toBe(false);
  });
});
