import { describe, expect, it } from 'vitest';
import { cellOf, directionOf, ownerKey, portList, sentence, trackIncidents, type Owner, type ScoredRound, type TrackOptions } from '../../../../src/main/engine/detect/incidents';
import type { ExplainedPort } from '../../../../src/main/engine/detect/incidents';
import type { CellError } from '../../../../src/main/engine/detect/score';

const T0 = Date.UTC(2026, 2, 3, 10, 0);
const MIN = 60_000;
const THRESHOLD = 5;
const r = (i: number, cells: CellError[] = [], t = T0 + i * MIN): ScoredRound => {
  const score = Math.max(0.5, ...cells.map((c) => c.error));
  return { roundId: i + 1, startedAt: t, score, anomalous: score > THRESHOLD, cells: score > THRESHOLD ? cells : undefined };
};
const cell = (port: number, error: number, occupied = true, proto: 'tcp' | 'udp' = 'tcp'): CellError => ({ cell: cellOf(proto, port, 2), port, proto, occupied, expected: occupied ? 0.001 : 0.999, error });

const sshd: Owner = { pid: 801, exe: '/usr/sbin/sshd', process: 'sshd' };
const node: Owner = { pid: 3100, exe: '/usr/bin/node', process: 'node' };
const backdoor: Owner = { pid: 3121, exe: '/tmp/x', process: 'x' };

/** Occupied cells by round id (r(i) has id i + 1); owners by port. */
function options(occupied: Record<number, number[]>, owners: Record<number, Owner>, over: Partial<TrackOptions> = {}): TrackOptions {
  return {
    threshold: THRESHOLD,
    maxStepMs: 150_000,
    occupiedCells: (x) => new Set(occupied[x.roundId] ?? []),
    ownerOf: (c) => owners[c.port] ?? null,
    ...over,
  };
}
const base = { share: 0.9, expected: 0.0001, firstSeenAt: T0, process: 'x', exe: '/tmp/x', pid: 3121, usualProcess: null, usualExe: null };
const p = (port: number, over: Partial<ExplainedPort> = {}): ExplainedPort => ({ ...base, proto: 'tcp', port, direction: 'appeared', ...over });
const c = (port: number, proto: 'tcp' | 'udp' = 'tcp') => cellOf(proto, port, 2);
const every = (from: number, to: number, cells: number[]) => Object.fromEntries(Array.from({ length: to - from + 1 }, (_, k) => [from + k, cells]));

describe('trackIncidents', () => {
  it('keeps an incident open while the port that raised it stays open, then lets it end', () => {
    const rounds = [r(0, [cell(4444, 11)]), r(1), r(2), r(3), r(4)];
    const out = trackIncidents(rounds, options({ ...every(1, 4, [c(4444), c(22)]), 5: [c(22)] }, { 4444: backdoor }));
    expect(out.rounds.map((x) => x.anomalous)).toEqual([true, true, true, true, false]);
    expect(out.rounds.map((x) => x.continued ?? false)).toEqual([false, true, true, true, false]);
    expect(out.incidents).toHaveLength(1);
    expect(out.incidents[0]!.rounds.map((x) => x.roundId)).toEqual([1, 2, 3, 4]);
    expect(out.incidents[0]).toMatchObject({ continues: null, peak: 11, grew: false });
  });

  it('is not held open by a vanished port, nor by an open port under the threshold, nor across a gap', () => {
    const vanished = trackIncidents([r(0, [cell(22, 11, false), cell(3000, 2)]), r(1)], options({ 2: [c(3000)] }, { 22: sshd }));
    expect(vanished.rounds[1]!.anomalous).toBe(false);
    const gap = trackIncidents([r(0, [cell(4444, 11)]), r(1, [], T0 + 3 * 3_600_000)], options({ 1: [c(4444)], 2: [c(4444)] }, { 4444: backdoor }));
    expect(gap.rounds[1]!.anomalous).toBe(false);
  });

  it('continues an incident stored by the previous run while its port is open', () => {
    const open = [{ id: 42, startedAt: T0 - 30 * MIN, cells: [{ cell: c(4444), occupied: true, owner: backdoor }] }];
    const out = trackIncidents([r(0), r(1)], options({ 1: [c(4444)] }, {}, { open }));
    expect(out.rounds.map((x) => x.anomalous)).toEqual([true, false]);
    expect(out.incidents).toHaveLength(1);
    expect(out.incidents[0]).toMatchObject({ continues: 42, grew: false });
  });

  it('gives a new cause inside an open incident an incident of its own (a backdoor during an unusual-hour dev server)', () => {
    // node on 3000 runs at an unusual hour for the whole hour; at round 10 /tmp/x opens 4444.
    const rounds = Array.from({ length: 20 }, (_, i) => r(i, i === 0 ? [cell(3000, 8)] : i === 10 ? [cell(4444, 14)] : i === 11 ? [cell(4444, 13), cell(3000, 6)] : []));
    const occupied = { ...every(1, 10, [c(3000)]), ...every(11, 16, [c(3000), c(4444)]), ...every(17, 20, [c(3000)]) };
    const out = trackIncidents(rounds, options(occupied, { 3000: node, 4444: backdoor }));
    expect(out.incidents).toHaveLength(2);
    const [dev, intruder] = out.incidents;
    expect([...dev!.cells.keys()]).toEqual([c(3000)]);
    expect(dev!.rounds).toHaveLength(20);
    expect([...intruder!.cells.keys()]).toEqual([c(4444)]);
    expect(intruder!.rounds.map((x) => x.roundId)).toEqual([11, 12, 13, 14, 15, 16]);
    expect(intruder!.startedAt).toBe(T0 + 10 * MIN);
  });

  it('joins a port the same process opens later to its incident, and marks a stored one as grown', () => {
    const fresh = trackIncidents([r(0, [cell(4444, 14)]), r(1, [cell(5555, 14)])], options({ 1: [c(4444)], 2: [c(4444), c(5555)] }, { 4444: backdoor, 5555: backdoor }));
    expect(fresh.incidents).toHaveLength(1);
    expect([...fresh.incidents[0]!.cells.keys()].sort()).toEqual([c(4444), c(5555)].sort());
    const open = [{ id: 7, startedAt: T0 - MIN, cells: [{ cell: c(4444), occupied: true, owner: backdoor }] }];
    const grown = trackIncidents([r(0, [cell(5555, 14)])], options({ 1: [c(4444), c(5555)] }, { 5555: backdoor }, { open }));
    expect(grown.incidents).toHaveLength(1);
    expect(grown.incidents[0]).toMatchObject({ continues: 7, grew: true });
  });

  it('names a usual service that vanishes while another incident is open, as an incident of its own', () => {
    const rounds = [r(0, [cell(4444, 14)]), r(1), r(2, [cell(5432, 9, false)]), r(3)];
    const out = trackIncidents(rounds, options(every(1, 4, [c(4444)]), { 4444: backdoor, 5432: { pid: 950, exe: '/usr/lib/postgresql/15/bin/postgres', process: 'postgres' } }));
    expect(out.incidents).toHaveLength(2);
    expect([...out.incidents[1]!.cells.values()].map((t) => [t.cell.port, t.cell.occupied])).toEqual([[5432, false]]);
    expect(out.incidents[1]!.rounds.map((x) => x.roundId)).toEqual([3]);
  });

  it('makes one incident of a burst: every port above the threshold, not the top ten', () => {
    const burst = Array.from({ length: 40 }, (_, k) => cell(41000 + k, 13.5));
    const out = trackIncidents([r(0, burst)], options({ 1: burst.map((x) => x.cell) }, Object.fromEntries(burst.map((x) => [x.port, backdoor]))));
    expect(out.incidents).toHaveLength(1);
    expect(out.incidents[0]!.cells.size).toBe(40);
  });

  it('holds an owner change open while it is found again, not while the port stays open', () => {
    const change = { ...cell(22, 14), newOwner: { process: 'sshd', exe: '/usr/sbin/sshd' } };
    const python: Owner = { pid: 6000, exe: '/usr/bin/python3.11', process: 'python3' };
    const rounds = [r(0), { ...r(1), anomalous: true, ruleCauses: [change] }, { ...r(2), anomalous: true, ruleCauses: [change] }, r(3), r(4)];
    const out = trackIncidents(rounds, options(every(1, 5, [c(22)]), { 22: python }));
    expect(out.rounds.map((x) => x.anomalous)).toEqual([false, true, true, false, false]);
    expect(out.incidents).toHaveLength(1);
    expect([...out.incidents[0]!.cells.values()][0]!.cell.newOwner).toEqual({ process: 'sshd', exe: '/usr/sbin/sshd' });
    expect(sentence([p(22, { direction: 'new-owner', exe: '/usr/bin/python3.11', pid: 6000, usualExe: '/usr/sbin/sshd', usualProcess: 'sshd' })], T0)).toBe(
      'Port 22/tcp is held by a new program: /usr/bin/python3.11 (pid 6000), where it is usually /usr/sbin/sshd.',
    );
  });

  it('makes one incident of services of several programs that stop in the same round (a logout), apart from a port that opens then', () => {
    const owners = {
      6463: { pid: 2450, exe: '/usr/share/discord/Discord', process: 'Discord' },
      22000: { pid: 2301, exe: '/usr/bin/syncthing', process: 'syncthing' },
      1716: { pid: 2350, exe: '/usr/bin/kdeconnectd', process: 'kdeconnectd' },
      57621: { pid: 2400, exe: '/usr/share/spotify/spotify', process: 'spotify' },
      4444: backdoor,
    };
    const logout = [cell(6463, 6.2, false), cell(22000, 6.2, false), cell(1716, 6.1, false), cell(57621, 6.0, false), cell(4444, 14)];
    const out = trackIncidents([r(0, logout), r(1)], options(every(0, 2, [c(4444)]), owners));
    expect(out.incidents).toHaveLength(2);
    const stopped = out.incidents.find((i) => [...i.cells.values()].every((t) => !t.cell.occupied))!;
    expect([...stopped.cells.values()].map((t) => t.cell.port).sort((a, b) => a - b)).toEqual([1716, 6463, 22000, 57621]);
    const opened = out.incidents.find((i) => i !== stopped)!;
    expect([...opened.cells.keys()]).toEqual([c(4444)]);
  });

  it('keeps ports that vanish together with no known owner together', () => {
    const out = trackIncidents([r(0, [cell(22000, 7, false), cell(21027, 6, false, 'udp')])], options({}, {}));
    expect(out.incidents).toHaveLength(1);
    expect(out.incidents[0]!.cells.size).toBe(2);
  });
});

describe('explanations', () => {
  it('names the direction: appeared (unknown port), unusual hour (known port), vanished', () => {
    expect(directionOf({ occupied: true }, { normalRounds: 0 })).toBe('appeared');
    expect(directionOf({ occupied: true }, { normalRounds: 500 })).toBe('unusual-hour');
    expect(directionOf({ occupied: false }, { normalRounds: 500 })).toBe('vanished');
  });

  it('keys owners by pid, else executable, else nothing', () => {
    expect(ownerKey(backdoor)).toBe('pid:3121');
    expect(ownerKey({ pid: null, exe: null, process: 'x' })).toBe('exe:x');
    expect(ownerKey({ pid: null, exe: null, process: null })).toBeNull();
    expect(ownerKey(null)).toBeNull();
  });

  it('lists ports as people read them', () => {
    const ports = (xs: number[], proto: 'tcp' | 'udp' = 'tcp') => xs.map((port) => ({ proto, port }));
    expect(portList(ports([41002, 41000, 41001, 41003]), false)).toBe('41000–41003');
    expect(portList([...ports([22, 80, 81]), ...ports([53], 'udp')])).toBe('22/tcp, 80/tcp, 81/tcp and 53/udp');
    expect(portList(ports([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]), false)).toBe('1, 3, 5, 7, 9, 11 and 4 more');
  });


  it('writes one sentence with the port, the process and its history', () => {
    expect(sentence([p(4444)], T0)).toBe('Port 4444/tcp started listening: /tmp/x (pid 3121), never seen before.');
    expect(sentence([p(22, { direction: 'vanished', exe: '/usr/sbin/sshd', pid: 801 })], T0 + 86_400_000)).toBe(
      'Port 22/tcp stopped listening (last held by /usr/sbin/sshd (pid 801)), though it is usually open at this time.',
    );
    expect(sentence([p(3000, { direction: 'unusual-hour', firstSeenAt: T0 - 86_400_000, exe: null, process: 'node', pid: null })], T0)).toMatch(
      /^Port 3000\/tcp is open at an unusual time: node; it is known \(first seen 2026-03-02 10:00\)/,
    );
    expect(sentence([], T0)).toMatch(/no single port/);
  });

  it('says what a burst did as a whole', () => {
    const burst = Array.from({ length: 40 }, (_, k) => p(41000 + k));
    expect(sentence(burst, T0)).toBe('40 new TCP listeners by /tmp/x (pid 3121), ports 41000–41039, never seen before.');
    expect(sentence([p(4444), p(1337, { proto: 'udp' })], T0)).toBe('2 new listening ports by /tmp/x (pid 3121): 4444/tcp and 1337/udp, never seen before.');
  });

  it('names every port the incident holds, grouped by what happened and who did it', () => {
    const syncthing = { exe: '/usr/bin/syncthing', process: 'syncthing', pid: 2301, direction: 'vanished' as const };
    const text = sentence([p(4444), p(22000, syncthing), p(21027, { ...syncthing, proto: 'udp' }), p(22, { direction: 'vanished', exe: '/usr/sbin/sshd', pid: 801 })], T0);
    expect(text).toBe(
      'Port 4444/tcp started listening: /tmp/x (pid 3121), never seen before; ports 22000/tcp and 21027/udp stopped listening (last held by /usr/bin/syncthing (pid 2301)), though they are usually open at this time; port 22/tcp stopped listening (last held by /usr/sbin/sshd (pid 801)), though it is usually open at this time.',
    );
  });
});
