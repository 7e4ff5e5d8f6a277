import { describe, expect, it } from 'vitest';
import { evaluate, spansOf } from '../../bench/quality/evaluate';
import type { Injected } from '../../bench/quality/generator';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const inc = (kind: Injected['kind'], start: number, minutes: number, port: number): Injected => ({ kind, start, end: start + minutes * MIN, what: '{}', ports: [{ proto: 'tcp', port }] });

describe('evaluate', () => {
  const injected = [inc('new-listener', 100 * MIN, 30, 4444), inc('vanished', 400 * MIN, 30, 22)];
  const window = { from: 0, to: DAY };

  it('counts overlap (with the tolerance after the end) as detection, the rest as false alerts', () => {
    const m = evaluate([{ start: 110 * MIN, end: 120 * MIN }, { start: 435 * MIN, end: 436 * MIN }, { start: 900 * MIN, end: 901 * MIN }], injected, window);
    expect(m.alerts).toBe(3);
    expect(m.recall).toBe(1);
    expect(m.precision).toBe(0.667);
    expect(m.false_alerts_per_day).toBe(1);
    expect(m.recall_by_kind['new-listener']).toBe(1);
    expect(m.recall_by_kind['high-udp']).toBeNull();
    expect(m.named).toBeNull();
  });

  it('named metrics count only alerts that name the incident\'s port', () => {
    // One long alert about something else overlaps both incidents.
    const alerts = [{ start: 50 * MIN, end: 500 * MIN, ports: [{ proto: 'tcp' as const, port: 4200 }] }, { start: 401 * MIN, end: 410 * MIN, ports: [{ proto: 'tcp' as const, port: 22 }] }];
    const m = evaluate(alerts, injected, window, { explains: true });
    expect(m.recall).toBe(1);
    expect(m.precision).toBe(1);
    expect(m.named).toMatchObject({ recall: 0.5, precision: 0.5, false_alerts_per_day: 1 });
    expect(m.named!.recall_by_kind).toMatchObject({ 'new-listener': 0, vanished: 1 });
  });

  it('evaluates a window: incidents and alerts that start in it, false alerts per day of it', () => {
    const m = evaluate([{ start: 110 * MIN, end: 120 * MIN }, { start: 900 * MIN, end: 901 * MIN }], injected, { from: 300 * MIN, to: 300 * MIN + DAY / 2 });
    expect(m.alerts).toBe(1);
    expect(m.recall).toBe(0);
    expect(m.false_alerts_per_day).toBe(2);
  });
});

describe('spansOf', () => {
  it('merges consecutive flagged rounds', () => {
    const rounds = [0, 1, 2, 3, 4, 5, 20].map((m) => ({ startedAt: m * MIN, flagged: m !== 2 }));
    expect(spansOf(rounds)).toEqual([
      { start: 0, end: MIN },
      { start: 3 * MIN, end: 5 * MIN },
      { start: 20 * MIN, end: 20 * MIN },
    ]);
  });
});
