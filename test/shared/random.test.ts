import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/shared/random';

describe('seededRandom', () => {
  it('replays from its seed, and a generator made from its state goes on with the same numbers', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const first = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(first);
    const resumed = seededRandom(a.state());
    const next = Array.from({ length: 100 }, () => a());
    expect(Array.from({ length: 100 }, () => resumed())).toEqual(next);
    // Not the start over again.
    expect(next.slice(0, 5)).not.toEqual(first);
    for (const x of next) expect(x >= 0 && x < 1).toBe(true);
  });
});
