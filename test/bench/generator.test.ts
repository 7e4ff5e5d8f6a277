import { describe, expect, it } from 'vitest';
import { generate, KINDS, LATE_FIRST_DAY, LEGIT_SERVICES, legitServiceOf, simulate, type Injected } from '../../bench/quality/generator';

const START = new Date(2026, 2, 2).getTime();
const MIN = 60_000;
const opts = { start: START, days: 5, seed: 7, quietHours: 30 };

const spec = (i: Injected) => JSON.parse(i.what) as { port?: number; proto?: string; process?: string; exe?: string };

describe('quality generator', () => {
  it('gives the same rounds for the same seed, streamed or built at once, every time', () => {
    const a = generate(opts);
    const s = simulate(opts);
    expect(s.roundCount).toBe(a.rounds.length);
    let i = 0;
    for (const r of s.rounds()) expect(r).toEqual(a.rounds[i++]);
    expect(i).toBe(a.rounds.length);
    expect(generate(opts).injected).toEqual(a.injected);
    expect(simulate({ ...opts, seed: 11 }).injected).not.toEqual(a.injected);
  });

  it('injects every kind after the quiet hours, at least two hours apart', () => {
    const { injected } = simulate({ ...opts, days: 8 });
    expect(new Set(injected.map((i) => i.kind))).toEqual(new Set(KINDS));
    for (const i of injected) expect(i.start).toBeGreaterThanOrEqual(START + 30 * 60 * MIN);
    for (let k = 1; k < injected.length; k++) expect(injected[k]!.start - injected[k - 1]!.end).toBeGreaterThanOrEqual(2 * 60 * MIN);
  });

  it('a high-udp incident is a backdoor on a high UDP port held 20-60 minutes', () => {
    const { injected, rounds } = generate({ ...opts, days: 8 });
    const inc = injected.filter((i) => i.kind === 'high-udp');
    expect(inc.length).toBeGreaterThan(0);
    for (const i of inc) {
      const s = spec(i);
      expect(s.proto).toBe('udp');
      expect(s.port).toBeGreaterThanOrEqual(32_768);
      expect(s.port).toBeLessThanOrEqual(65_535);
      expect((i.end - i.start) / MIN).toBeGreaterThanOrEqual(20);
      expect((i.end - i.start) / MIN).toBeLessThanOrEqual(60);
      const during = rounds.filter((r) => r.startedAt >= i.start && r.startedAt < i.end);
      expect(during.every((r) => r.sockets.some((x) => x.proto === 'udp' && x.port === s.port && x.exe === s.exe))).toBe(true);
      expect(legitServiceOf('udp', s.port!, s.process!, s.exe!)).toBeNull();
    }
  });

  it('a new-owner incident replaces a known port\'s owner with another program', () => {
    const { injected, rounds } = generate({ ...opts, days: 8 });
    const inc = injected.filter((i) => i.kind === 'new-owner');
    expect(inc.length).toBeGreaterThan(0);
    for (const i of inc) {
      const s = spec(i);
      const during = rounds.filter((r) => r.startedAt >= i.start && r.startedAt < i.end);
      for (const r of during) {
        const holders = r.sockets.filter((x) => x.proto === s.proto && x.port === s.port);
        expect(holders.map((h) => h.exe)).toEqual([s.exe]);
      }
      // The port is a legitimate service's, but not with this owner.
      expect(legitServiceOf(s.proto as 'tcp', s.port!)).not.toBeNull();
      expect(legitServiceOf(s.proto as 'tcp', s.port!, s.process!, s.exe!)).toBeNull();
    }
  });

  it('services the learning day does not see first run on day 3, and run again later', () => {
    const { rounds } = generate({ ...opts, days: 8 });
    for (const svc of LEGIT_SERVICES.filter((s) => s.firstDay === LATE_FIRST_DAY)) {
      const { proto, port } = svc.sockets[0]!;
      const days = new Set(rounds.filter((r) => r.sockets.some((x) => x.proto === proto && x.port === port && x.pid !== 31_337 && x.pid !== 31_338)).map((r) => Math.floor((r.startedAt - START) / (24 * 60 * MIN))));
      expect(Math.min(...days), svc.name).toBe(LATE_FIRST_DAY);
      expect(days.size, svc.name).toBeGreaterThan(1);
    }
  });

  it('keeps ephemeral UDP client sockets, mostly one round long, never ten', () => {
    const { rounds } = generate(opts);
    const run = new Map<number, number>();
    let longest = 0;
    for (const r of rounds) {
      const ports = new Set(r.sockets.filter((s) => s.proto === 'udp' && s.port >= 32_768 && s.exe !== null && legitServiceOf('udp', s.port, s.process, s.exe) === 'udp-clients').map((s) => s.port));
      for (const p of [...run.keys()]) if (!ports.has(p)) run.delete(p);
      for (const p of ports) run.set(p, (run.get(p) ?? 0) + 1);
      longest = Math.max(longest, ...run.values());
    }
    expect(longest).toBeGreaterThan(1);
    expect(longest).toBeLessThan(10);
  });

  it('names the legitimate service of a socket, owner fields permitting', () => {
    expect(legitServiceOf('tcp', 22, 'sshd', '/usr/sbin/sshd')).toBe('sshd');
    expect(legitServiceOf('tcp', 22, 'sshd', '/tmp/.x/sshd')).toBeNull();
    expect(legitServiceOf('tcp', 22000)).toBe('syncthing');
    expect(legitServiceOf('udp', 51_820, null, null)).toBe('wireguard');
    expect(legitServiceOf('udp', 51_820, 'x', '/tmp/.x/x')).toBeNull();
    expect(legitServiceOf('udp', 45_000, 'firefox', '/usr/lib/firefox/firefox')).toBe('udp-clients');
    expect(legitServiceOf('tcp', 4444, 'x', '/tmp/.x/x')).toBeNull();
  });
});
