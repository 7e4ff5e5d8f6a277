import { describe, expect, it } from 'vitest';
import { formatTick, niceStep, niceTicks, tickAlign, TIME_LABEL_PX, timeTicks } from '../../src/renderer/src/ticks';

const labels = (lo: number, hi: number, count?: number) => {
  const t = niceTicks(lo, hi, count);
  return t.values.map((v) => formatTick(v, t.decimals));
};

describe('value ticks', () => {
  it('steps by 1, 2, 2.5 or 5 times a power of ten', () => {
    expect(niceStep(1, 4)).toBe(0.25);
    expect(niceStep(10, 5)).toBe(2);
    expect(niceStep(0.07, 4)).toBeCloseTo(0.02);
    expect(niceStep(900, 4)).toBe(250);
  });

  it('prints scores that sit close together as distinct labels', () => {
    // Three scores of 0.69-something: the axis must not read 0.69 / 0.69 / 0.69.
    const l = labels(0.6891, 0.6934);
    expect(new Set(l).size).toBe(l.length);
    expect(l.length).toBeGreaterThanOrEqual(2);
    expect(l).toEqual(['0.688', '0.690', '0.692', '0.694']);
  });

  it('gives a flat series an axis around its value', () => {
    const l = labels(0.69, 0.69);
    expect(new Set(l).size).toBe(l.length);
    expect(Number(l[0])).toBeLessThan(0.69);
    expect(Number(l.at(-1))).toBeGreaterThan(0.69);
    expect(labels(0, 0)).toEqual(['-1.0', '-0.5', '0.0', '0.5', '1.0']);
  });

  it('spans the data with a tick on each end and no more than asked', () => {
    const t = niceTicks(3, 97, 4);
    expect(t.values).toEqual([0, 25, 50, 75, 100]);
    expect([t.min, t.max]).toEqual([0, 100]);
    expect(labels(0, 1)).toEqual(['0.00', '0.25', '0.50', '0.75', '1.00']);
    expect(labels(0, 12000)).toEqual(['0', '5000', '10000', '15000']);
  });
});

describe('time ticks', () => {
  const at = (h: number, m = 0) => new Date(2026, 2, 10, h, m).getTime();

  it('chooses clock steps that leave room for every label', () => {
    const ticks = timeTicks(at(9, 7), at(15, 7), 600);
    expect(ticks.length).toBeLessThanOrEqual(600 / TIME_LABEL_PX);
    expect(ticks.map((t) => new Date(t.at).getMinutes())).toEqual(ticks.map(() => 0));
    expect(ticks.map((t) => new Date(t.at).getHours())).toEqual([10, 11, 12, 13, 14, 15]);
    // No two labels the same, and none closer than a label's width.
    expect(new Set(ticks.map((t) => t.label)).size).toBe(ticks.length);
    for (let i = 1; i < ticks.length; i++) expect(((ticks[i]!.at - ticks[i - 1]!.at) / (at(15, 7) - at(9, 7))) * 600).toBeGreaterThanOrEqual(TIME_LABEL_PX);
  });

  it('reads twenty minutes in five-minute steps and a narrow axis in fewer ticks', () => {
    const wide = timeTicks(at(14, 0), at(14, 20), 500);
    expect(wide.map((t) => new Date(t.at).getMinutes())).toEqual([0, 5, 10, 15, 20]);
    const narrow = timeTicks(at(14, 0), at(14, 20), 200);
    expect(narrow.map((t) => new Date(t.at).getMinutes())).toEqual([0, 10, 20]);
  });

  it('labels midnight with the date, and steps of days at midnights', () => {
    const ticks = timeTicks(at(18), at(30), 600);
    const midnight = ticks.find((t) => new Date(t.at).getHours() === 0)!;
    expect(midnight.label).toBe(new Date(midnight.at).toLocaleDateString(undefined, { month: 'short', day: 'numeric' }));
    const month = timeTicks(new Date(2026, 2, 1, 5).getTime(), new Date(2026, 2, 31).getTime(), 700);
    expect(month.every((t) => new Date(t.at).getHours() === 0)).toBe(true);
    expect(month.length).toBeLessThanOrEqual(700 / TIME_LABEL_PX);
    expect(timeTicks(5, 5, 500)).toEqual([]);
  });
});

describe('time label alignment', () => {
  it('keeps a label at either end of the axis inside it, and centres the others', () => {
    expect(tickAlign(0.5, 600)).toBe('center');
    expect(tickAlign(1, 600)).toBe('end');
    expect(tickAlign(0.97, 600)).toBe('end');
    expect(tickAlign(0, 600)).toBe('start');
    expect(tickAlign(0.03, 600)).toBe('start');
    // On a wide axis the same place is far enough from the end to stay centred.
    expect(tickAlign(0.97, 3000)).toBe('center');
  });
});
