import { describe, expect, it } from 'vitest';
import { cellOf, continueIncidents, directionOf, mergeAnomalous, sentence, topContributors, type ScoredRound } from '../../../../src/main/engine/detect/incidents';
import type { CellError } from '../../../../src/main/engine/detect/score';

const T0 = Date.UTC(2026, 2, 3, 10, 0);
const MIN = 60_000;
const r = (i: number, anomalous: boolean, score = anomalous ? 10 : 1, t = T0 + i * MIN): ScoredRound => ({ roundId: i + 1, startedAt: t, score, anomalous });
const cell = (port: number, error: number, occupied = true, proto: 'tcp' | 'udp' = 'tcp'): CellError => ({ cell: port * 2 + (proto === 'tcp' ? 0 : 1), port, proto, occupied, expected: occupied ? 0.001 : 0.999, error });

describe('mergeAnomalous', () => {
  it('merges consecutive anomalous rounds into one incident and splits at a normal round', () => {
    const groups = mergeAnomalous([r(0, false), r(1, true), r(2, true), r(3, true), r(4, false), r(5, true)], 150_000);
    expect(groups.map((g) => g.rounds.map((x) => x.roundId))).toEqual([[2, 3, 4], [6]]);
  });

  it('does not bridge a gap in time (the machine slept between two anomalous rounds)', () => {
    const groups = mergeAnomalous([r(0, true), r(1, true, 10, T0 + 3 * 3_600_000)], 150_000);
    expect(groups).toHaveLength(2);
  });

  it('returns nothing when nothing was anomalous', () => {
    expect(mergeAnomalous([r(0, false), r(1, false)], 150_000)).toEqual([]);
  });
});

describe('continueIncidents', () => {
  /** Occupied cells by round id (r(i) has id i + 1). */
  const occupied = (byRound: Record<number, number[]>) => (x: ScoredRound) => new Set(byRound[x.roundId] ?? []);
  const c4444 = cellOf('tcp', 4444, 2);
  const c22 = cellOf('tcp', 22, 2);

  it('keeps an incident open while the port that raised it stays open, then lets it end', () => {
    const rounds = [{ ...r(0, true), cells: [cell(4444, 11)] }, r(1, false, 0.5), r(2, false, 0.4), r(3, false, 0.3), r(4, false, 0.2)];
    const out = continueIncidents(rounds, 5, occupied({ 2: [c4444, c22], 3: [c4444, c22], 4: [c4444, c22], 5: [c22] }), 150_000);
    expect(out.map((x) => x.anomalous)).toEqual([true, true, true, true, false]);
    expect(out.map((x) => x.continued ?? false)).toEqual([false, true, true, true, false]);
    expect(mergeAnomalous(out, 150_000).map((g) => g.rounds.length)).toEqual([4]);
  });

  it('is not carried by a vanished port, nor by an open port whose error was below the threshold, nor across a gap', () => {
    const vanished = [{ ...r(0, true), cells: [cell(22, 11, false), cell(3000, 2)] }, r(1, false)];
    expect(continueIncidents(vanished, 5, occupied({ 2: [cellOf('tcp', 3000, 2)] }), 150_000)[1]!.anomalous).toBe(false);
    const gap = [{ ...r(0, true), cells: [cell(4444, 11)] }, r(1, false, 1, T0 + 3 * 3_600_000)];
    expect(continueIncidents(gap, 5, occupied({ 1: [c4444], 2: [c4444] }), 150_000)[1]!.anomalous).toBe(false);
  });

  it('continues an incident from the previous run through the carried cells', () => {
    const out = continueIncidents([r(0, false), r(1, false)], 5, occupied({ 1: [c4444] }), 150_000, [c4444]);
    expect(out.map((x) => x.anomalous)).toEqual([true, false]);
  });
});

describe('explanations', () => {
  it('names the direction: appeared (unknown port), unusual hour (known port), vanished', () => {
    expect(directionOf({ occupied: true }, { normalRounds: 0 })).toBe('appeared');
    expect(directionOf({ occupied: true }, { normalRounds: 500 })).toBe('unusual-hour');
    expect(directionOf({ occupied: false }, { normalRounds: 500 })).toBe('vanished');
  });

  it('ranks ports by their summed error over the incident, with shares that add up to at most 1', () => {
    const group = {
      rounds: [
        { ...r(0, true), cells: [cell(4444, 11), cell(22, 2, false), cell(3000, 0.01)] },
        { ...r(1, true), cells: [cell(4444, 12), cell(22, 3, false)] },
      ],
    };
    const top = topContributors(group);
    expect(top.map((t) => t.cell.port)).toEqual([4444, 22]); // 3000's share is under 2 %
    expect(top[0]!.share).toBeCloseTo(23 / 28.01, 5);
    expect(top.reduce((s, t) => s + t.share, 0)).toBeLessThanOrEqual(1);
  });

  it('writes one sentence with the port, the process and its history', () => {
    const base = { share: 0.9, expected: 0.0001, firstSeenAt: T0, process: 'x', exe: '/tmp/x', pid: 3121 };
    expect(sentence([{ ...base, proto: 'tcp', port: 4444, direction: 'appeared' }], T0)).toBe('Port 4444/tcp started listening: /tmp/x (pid 3121), never seen before.');
    expect(sentence([{ ...base, proto: 'tcp', port: 22, direction: 'vanished', exe: '/usr/sbin/sshd', pid: 801 }, { ...base, proto: 'udp', port: 53, direction: 'vanished' }], T0 + 86_400_000)).toBe(
      'Port 22/tcp stopped listening (last held by /usr/sbin/sshd (pid 801)), though it is usually open at this time; and 1 other port.',
    );
    expect(sentence([{ ...base, proto: 'tcp', port: 3000, direction: 'unusual-hour', firstSeenAt: T0 - 86_400_000, exe: null, process: 'node', pid: null }], T0)).toMatch(
      /^Port 3000\/tcp is open at an unusual time: node; it is known \(first seen 2026-03-02 10:00\)/,
    );
    expect(sentence([], T0)).toMatch(/no single port/);
  });
});
