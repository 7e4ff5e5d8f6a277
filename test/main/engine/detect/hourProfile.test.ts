import { describe, expect, it } from 'vitest';
import { countRounds, DEFAULT_PROFILE_OPTIONS, emptyHourCounts, HourProfile, isHourCounts, type HourCounts } from '../../../../src/main/engine/detect/hourProfile';
import type { RoundFeatures } from '../../../../src/main/engine/detect/features';

const MIN = 60_000;
const at = (day: number, hour: number, minute = 0) => new Date(2026, 2, 2 + day, hour, minute).getTime();
const round = (startedAt: number, cells: number[]): RoundFeatures => ({ roundId: startedAt, startedAt, active: Int32Array.from(cells), ephemeralUdp: 0, context: new Float32Array(5) });

const DEV = 3000 * 2; // 3000/tcp
const SSH = 22 * 2;

/** `days` days of one-minute rounds: sshd always, a dev server 09:30–17:30. */
function week(days: number): HourCounts {
  const counts = emptyHourCounts();
  for (let d = 0; d < days; d++) {
    const rounds: RoundFeatures[] = [];
    for (let m = 0; m < 1440; m++) {
      const t = at(d, 0) + m * MIN;
      const minuteOfDay = m;
      rounds.push(round(t, minuteOfDay >= 570 && minuteOfDay < 1050 ? [SSH, DEV] : [SSH]));
    }
    countRounds(counts, rounds);
  }
  return counts;
}

describe('hour-of-day profile', () => {
  it('bounds a port never open at this time of day by what its counts say, and leaves its usual hours alone', () => {
    const profile = new HourProfile(week(7));
    // Open a third of the day; at 03:04, 0 of ~840 rounds of that time of day in a week:
    // p ≤ (1/3) / 841, a logit of about −7.8 (the model alone stopped near −5.9).
    const night = profile.ceilingOf(DEV, at(7, 3, 4));
    expect(night).toBeLessThan(-7);
    expect(night).toBeGreaterThan(-9);
    // Usual hours, and a start 20 minutes earlier than ever, are not bounded.
    expect(profile.ceilingOf(DEV, at(7, 13, 21))).toBe(Infinity);
    expect(profile.ceilingOf(DEV, at(7, 9, 10))).toBe(Infinity);
    // 08:00 is 1.5 h before the earliest start: the kernel reaches it, a little.
    const early = profile.ceilingOf(DEV, at(7, 8, 0));
    expect(early).toBeLessThan(Math.log(0.5)); // below its overall frequency of 1/3
    expect(early).toBeGreaterThan(night + 3);
    // Always open: nothing to bound. Never counted: no opinion (the model's bias has one).
    expect(profile.ceilingOf(SSH, at(7, 3, 0))).toBe(Infinity);
    expect(profile.ceilingOf(4444 * 2, at(7, 3, 0))).toBe(Infinity);
    expect(new HourProfile(emptyHourCounts()).empty).toBe(true);
  });

  it('grows more certain as the days without it add up', () => {
    const day2 = new HourProfile(week(2)).ceilingOf(DEV, at(7, 3, 4));
    const day7 = new HourProfile(week(7)).ceilingOf(DEV, at(7, 3, 4));
    expect(day7).toBeLessThan(day2 - 1); // ln(7/2) ≈ 1.25 nats more surprise
  });

  it('writes the bound of each open, bounded cell of a round into a batch row, and nothing else', () => {
    const profile = new HourProfile(week(3));
    const out = new Float32Array(2 * 8192).fill(14);
    profile.write(at(3, 3, 0), [SSH, DEV, 4444 * 2], out, 8192);
    expect(out.subarray(0, 8192).every((v) => v === 14)).toBe(true);
    expect(out[8192 + DEV]).toBeCloseTo(profile.ceilingOf(DEV, at(3, 3, 0)), 5);
    expect([...out].filter((v) => v !== 14)).toHaveLength(1);
    // A closed port is left to the model, even at an hour it is never open.
    const closed = new Float32Array(8192).fill(14);
    profile.write(at(3, 3, 0), [SSH], closed, 0);
    expect(closed.every((v) => v === 14)).toBe(true);
  });

  it('puts a floor under a port open at its usual time of day: a nightly job seen one night is no surprise the next', () => {
    // One day: sshd always, a backup on 8200/tcp 01:57–02:17.
    const BACKUP = 8200 * 2;
    const counts = emptyHourCounts();
    countRounds(counts, Array.from({ length: 1440 }, (_, m) => round(at(0, 0) + m * MIN, m >= 117 && m < 137 ? [SSH, BACKUP] : [SSH])));
    const profile = new HourProfile(counts);
    // Next night at 02:03: the counts put it open in about a tenth of the rounds of that time of
    // day, so an open cell costs at most ~2 nats, under the 3-nat floor of any threshold.
    const floor = profile.floorOf(BACKUP, at(1, 2, 3));
    expect(-Math.log(1 / (1 + Math.exp(-floor)))).toBeLessThan(2.5);
    expect(profile.ceilingOf(BACKUP, at(1, 2, 3))).toBe(Infinity);
    // At noon it was never open: a ceiling, no floor.
    expect(profile.floorOf(BACKUP, at(1, 12, 0))).toBe(-Infinity);
    expect(profile.ceilingOf(BACKUP, at(1, 12, 0))).toBeLessThan(-5);
    // A port never counted gets neither.
    expect(profile.floorOf(4444 * 2, at(1, 2, 3))).toBe(-Infinity);
    // Into a batch row: the floor of the open backup; sshd's near-certain floor; nothing for a closed port.
    const ceilings = new Float32Array(20_000).fill(14);
    const floors = new Float32Array(20_000).fill(-14);
    expect(profile.write(at(1, 2, 3), [SSH, BACKUP], ceilings, 0, floors)).toBe(2);
    expect(floors[BACKUP]).toBeCloseTo(floor, 5);
    expect(ceilings.every((v) => v === 14)).toBe(true);
    const none = new Float32Array(20_000).fill(-14);
    profile.write(at(1, 2, 3), [SSH], new Float32Array(20_000).fill(14), 0, none);
    expect(none[BACKUP]).toBe(-14);
  });

  it('forgets a schedule that moved: counts halve every four weeks of rounds, faded cells go', () => {
    const counts = week(1);
    const before = counts.rounds.reduce((a, b) => a + b, 0);
    // Four weeks of rounds without the dev server.
    for (let i = 0; i < 28; i++) countRounds(counts, Array.from({ length: 1440 }, (_, m) => round(at(10 + i, 0) + m * MIN, [SSH])));
    expect(counts.cells[DEV]!.reduce((a, b) => a + b, 0)).toBeCloseTo(480 / 2, 0);
    expect(counts.rounds.reduce((a, b) => a + b, 0)).toBeGreaterThan(before);
    const faded = countRounds({ rounds: new Array(24).fill(10), cells: { 8888: new Array(24).fill(0.01) } }, [round(at(0, 1), [SSH])], { ...DEFAULT_PROFILE_OPTIONS, halfLifeRounds: 1 });
    expect(faded.cells[8888]).toBeUndefined();
  });

  it('recognises stored counts and refuses malformed ones', () => {
    expect(isHourCounts(week(1))).toBe(true);
    expect(isHourCounts(JSON.parse(JSON.stringify(week(1))))).toBe(true);
    expect(isHourCounts(undefined)).toBe(false);
    expect(isHourCounts({ rounds: new Array(23).fill(0), cells: {} })).toBe(false);
    expect(isHourCounts({ rounds: new Array(24).fill(0), cells: { x: new Array(24).fill(0) } })).toBe(false);
    expect(isHourCounts({ rounds: new Array(24).fill(0), cells: { 12: [...new Array(23).fill(0), -1] } })).toBe(false);
  });
});
