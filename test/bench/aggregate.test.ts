import { describe, expect, it } from 'vitest';
import { spread, summarize } from '../../bench/quality/aggregate';
import { evaluate } from '../../bench/quality/evaluate';
import type { Injected } from '../../bench/quality/generator';

describe('spread', () => {
  it('gives mean, sample standard deviation, min and max, leaving out missing values', () => {
    expect(spread([1, 2, 3, null])).toEqual({ mean: 2, sd: 1, min: 1, max: 3, n: 3 });
    expect(spread([0.5])).toEqual({ mean: 0.5, sd: 0, min: 0.5, max: 0.5, n: 1 });
    expect(spread([null, undefined])).toEqual({ mean: null, sd: null, min: null, max: null, n: 0 });
  });
});

describe('summarize', () => {
  it('spreads every detector\'s metrics, per kind and named, and the blocks present in every result', () => {
    const MIN = 60_000;
    const injected: Injected[] = [{ kind: 'burst', start: 10 * MIN, end: 20 * MIN, what: '{}', ports: [{ proto: 'tcp', port: 10_000 }] }];
    const w = { from: 0, to: 86_400_000 };
    const hit = evaluate([{ start: 12 * MIN, end: 13 * MIN, ports: [{ proto: 'tcp', port: 10_000 }] }], injected, w, { explains: true });
    const miss = evaluate([], injected, w, { explains: true });
    const s = summarize(
      [
        { a: hit, early: { days: '1-8', a: hit } },
        { a: miss, early: { days: '1-8', a: miss } },
      ],
      ['a'],
    ) as { seeds: number; a: { recall: unknown; recall_by_kind: Record<string, unknown>; named: { recall: unknown } }; early: { days: string } };
    expect(s.seeds).toBe(2);
    expect(s.a.recall).toEqual({ mean: 0.5, sd: 0.707, min: 0, max: 1, n: 2 });
    expect(s.a.recall_by_kind.burst).toEqual({ mean: 0.5, sd: 0.707, min: 0, max: 1, n: 2 });
    expect(s.a.recall_by_kind.vanished).toEqual({ mean: null, sd: null, min: null, max: null, n: 0 });
    expect(s.a.named.recall).toEqual({ mean: 0.5, sd: 0.707, min: 0, max: 1, n: 2 });
    expect(s.early.days).toBe('1-8');
  });
});
