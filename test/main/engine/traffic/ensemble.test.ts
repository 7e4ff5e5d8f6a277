import { describe, expect, it } from 'vitest';
import { TrafficEnsemble } from '../../../../src/main/engine/traffic/ensemble';
import { seededRandom } from '../../../../src/shared/random';

const F = 6;

/** Rows with structure: activity (f0) drives f1 and f2; f3 never moves (no host never seen); f4, f5 are noise. */
function rows(n: number, seed: number): Float32Array[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const a = 1 + 2 * rand();
    return Float32Array.from([a, 0.8 * a + 0.1 * rand(), 2 * a + 0.2 * rand(), 0, 0.3 + 0.1 * rand(), 0.5 * rand()]);
  });
}

function trained(seed: number, size = 3): TrafficEnsemble {
  const e = TrafficEnsemble.create(F, seed, size);
  e.fit(rows(600, 3), { epochs: 12, seed: 5, validation: rows(100, 4), patience: 3 });
  return e;
}

describe('traffic ensemble', () => {
  it('scores a row as the mean of its members, each trained from its own start', () => {
    const e = trained(1);
    try {
      expect(e.members).toHaveLength(3);
      const probe = rows(20, 9);
      const each = e.members.map((m) => m.score(probe));
      // The members started apart and stayed apart: not three copies of one model.
      expect(each[0]).not.toEqual(each[1]);
      expect(each[1]).not.toEqual(each[2]);
      const mean = probe.map((_, i) => (each[0]![i]! + each[1]![i]! + each[2]![i]!) / 3);
      e.score(probe).forEach((s, i) => expect(s).toBeCloseTo(mean[i]!, 5));
    } finally {
      e.dispose();
    }
  });

  it("explains the mean score by its gradient, which matches finite differences, and names the feature that moved", () => {
    const e = trained(2);
    try {
      const odd = Float32Array.from(rows(1, 11)[0]!);
      odd[3] = 3; // a feature that never moved in training
      const x = e.explain(odd);
      expect(x.score).toBeCloseTo(e.score([odd])[0]!, 3);
      const h = 1e-2;
      for (const i of [0, 2, 3]) {
        const up = Float32Array.from(odd);
        const down = Float32Array.from(odd);
        up[i]! += h;
        down[i]! -= h;
        const fd = (e.score([up])[0]! - e.score([down])[0]!) / (2 * h);
        expect(x.gradient[i]!).toBeCloseTo(fd, 0);
        expect(Math.abs(x.gradient[i]! - fd)).toBeLessThan(0.05 * Math.abs(fd) + 0.05);
      }
      expect([...x.shares].indexOf(Math.max(...x.shares))).toBe(3);
      expect(x.shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      // Its errors and expectations are the members' means.
      const each = e.members.map((m) => m.explain(odd));
      expect(x.errors[3]).toBeCloseTo(each.reduce((a, m) => a + m.errors[3]!, 0) / 3, 4);
      expect(x.expected[3]).toBeCloseTo(each.reduce((a, m) => a + m.expected[3]!, 0) / 3, 4);
    } finally {
      e.dispose();
    }
  });

  it('does a fixed amount of work: the same seeds give the same scores, another seed others', () => {
    const [a, b, c] = [trained(7, 2), trained(7, 2), trained(8, 2)];
    try {
      const probe = rows(10, 21);
      expect(a.score(probe)).toEqual(b.score(probe));
      expect(a.score(probe)).not.toEqual(c.score(probe));
    } finally {
      [a, b, c].forEach((m) => m.dispose());
    }
  });

  it('round-trips through its members’ saved states, and names the member that does not fit', () => {
    const e = trained(3, 2);
    try {
      const states = JSON.parse(JSON.stringify(e.states())) as ReturnType<TrafficEnsemble['states']>;
      const back = TrafficEnsemble.fromStates(states);
      const probe = rows(10, 41);
      expect(back.score(probe).map((s) => s.toFixed(4))).toEqual(e.score(probe).map((s) => s.toFixed(4)));
      expect(back.trained).toBe(true);
      back.dispose();
      const bad = structuredClone(states);
      bad[1]!.weights[0]!.shape = [2, 2];
      expect(() => TrafficEnsemble.fromStates(bad)).toThrow(/member 2 of 2: saved weight 0 has shape \[2, 2\]/);
      expect(() => TrafficEnsemble.fromStates([])).toThrow(/no members/);
      expect(() => TrafficEnsemble.create(F, 1, 0)).toThrow(/at least 1, got 0/);
    } finally {
      e.dispose();
    }
  });
});
