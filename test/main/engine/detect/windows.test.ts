import { describe, expect, it } from 'vitest';
import { windowsFor } from '../../../../src/main/engine/detect/windows';

const MIN = 60_000;
describe('windowsFor', () => {
  it('takes the W rounds ending at each scored round', () => {
    const rounds = [0, 1, 2, 3, 4].map((i) => ({ startedAt: i * MIN }));
    expect(windowsFor(rounds, 3, 150_000, 2)).toEqual([[0, 1, 2], [1, 2, 3], [2, 3, 4]]);
  });

  it('never bridges a gap: rounds before it are replaced by the first round after it', () => {
    const rounds = [0, 1, 2, 120, 121, 122].map((m) => ({ startedAt: m * MIN }));
    expect(windowsFor(rounds, 3, 150_000, 3)).toEqual([[3, 3, 3], [3, 3, 4], [3, 4, 5]]);
    // The same answer when the gap lies before the first scored round.
    expect(windowsFor(rounds, 3, 150_000, 4)).toEqual([[3, 3, 4], [3, 4, 5]]);
  });

  it('pads the very first rounds with the first round', () => {
    expect(windowsFor([{ startedAt: 0 }, { startedAt: MIN }], 3, 150_000)).toEqual([[0, 0, 0], [0, 0, 1]]);
  });
});
