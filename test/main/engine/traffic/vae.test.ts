import { describe, expect, it } from 'vitest';
import { TrafficVae } from '../../../../src/main/engine/traffic/vae';
import { seededRandom } from '../../../../src/shared/random';

const F = 10;

/**
 * Normal rows with structure a model can learn: connections (f0) drive endpoints (f1) and bytes
 * (f2, f3); the rest are small shares and flags that rarely move. In log units, like the features.
 */
function normalRows(n: number, seed: number): Float32Array[] {
  const rand = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  return Array.from({ length: n }, () => {
    const activity = 1 + 2 * rand();
    const r = new Float32Array(F);
    r[0] = activity;
    r[1] = 0.8 * activity + 0.1 * gauss();
    r[2] = 2 * activity + 0.2 * gauss();
    r[3] = 1.5 * activity + 0.2 * gauss();
    r[4] = 0.3 + 0.05 * gauss();
    r[5] = 0; // endpoints never seen: none in normal traffic
    r[6] = 0.5 + 0.1 * gauss();
    r[7] = rand() < 0.1 ? 1 : 0;
    r[8] = 0.2 * rand();
    r[9] = 1;
    return r;
  });
}

function trained(seed = 1): TrafficVae {
  const vae = TrafficVae.create(F, seed);
  vae.fit(normalRows(1500, 3), { epochs: 25, seed: 5, validation: normalRows(200, 4), patience: 5 });
  return vae;
}

describe('traffic VAE', () => {
  it('scores rows unlike its training far above held-out normal ones, and names the feature that moved', () => {
    const vae = trained();
    try {
      const held = vae.score(normalRows(300, 9));
      const worst = Math.max(...held);
      const [row] = normalRows(1, 11);
      const odd = Float32Array.from(row!);
      odd[5] = 3; // twenty endpoints never seen before, in log1p units
      const e = vae.explain(odd);
      expect(e.score).toBeGreaterThan(3 * worst);
      expect(vae.score([odd])[0]).toBeCloseTo(e.score, 3);
      const top = [...e.shares].indexOf(Math.max(...e.shares));
      expect(top).toBe(5);
      expect(e.shares[5]).toBeGreaterThan(0.5);
      expect(e.shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      // A volume out of line with its connections: bytes out, not connections, explains it.
      const loud = Float32Array.from(row!);
      loud[2] = row![2]! + 4;
      const l = vae.explain(loud);
      expect(l.score).toBeGreaterThan(2 * worst);
      expect([...l.errors].indexOf(Math.max(...l.errors))).toBe(2);
    } finally {
      vae.dispose();
    }
  });

  it('explains by the gradient of the score, which matches finite differences', () => {
    const vae = trained();
    try {
      const [row] = normalRows(1, 21);
      const x = Float32Array.from(row!);
      x[5] = 1.5;
      x[2] = x[2]! + 1;
      const e = vae.explain(x);
      for (let i = 0; i < F; i++) {
        // Small enough not to cross a ReLU's kink (the score is piecewise smooth), large enough
        // for float32 scores of a few hundred.
        const h = 1e-3;
        const up = Float32Array.from(x);
        const down = Float32Array.from(x);
        up[i] = x[i]! + h;
        down[i] = x[i]! - h;
        const [su, sd] = vae.score([up, down]);
        const numeric = (su! - sd!) / (2 * h);
        expect(Math.abs(e.gradient[i]! - numeric)).toBeLessThan(0.05 + 0.02 * Math.abs(numeric));
      }
    } finally {
      vae.dispose();
    }
  });

  it('does a fixed amount of work: the same rows and seeds give the same weights, another seed others', () => {
    const a = trained(1);
    const b = trained(1);
    const c = trained(2);
    try {
      const probe = normalRows(20, 31);
      expect(a.score(probe)).toEqual(b.score(probe));
      expect(a.score(probe)).not.toEqual(c.score(probe));
    } finally {
      [a, b, c].forEach((m) => m.dispose());
    }
  });

  it('stops early on its validation rows and keeps the best epoch', () => {
    const vae = TrafficVae.create(F, 1);
    try {
      const r = vae.fit(normalRows(400, 3), { epochs: 60, seed: 5, validation: normalRows(100, 4), patience: 1 });
      expect(r.epochs.length).toBeLessThan(60);
      const best = Math.min(...r.epochs.map((e) => e.valScore!));
      expect(r.epochs[r.kept - 1]!.valScore).toBe(best);
    } finally {
      vae.dispose();
    }
  });

  it('takes context it does not reconstruct: the same value is normal for one process and not for another', () => {
    // Feature 0 follows what the context says is usual for the row's process (a browser: about 3
    // new hosts a window; a daemon: none), so the context decides whether a value is surprising.
    const rand = seededRandom(8);
    const rows = Array.from({ length: 1500 }, () => {
      const usual = rand() < 0.5 ? 0 : 3;
      return Float32Array.from([usual + 0.2 * (rand() - 0.5), 1 + 0.1 * rand(), usual]);
    });
    const vae = TrafficVae.create(2, 4, { conditions: 1 });
    try {
      vae.fit(rows, { epochs: 30, seed: 2 });
      const [browser, daemon] = vae.score([Float32Array.from([3, 1.05, 3]), Float32Array.from([3, 1.05, 0])]);
      expect(daemon!).toBeGreaterThan(20 * browser!);
      const e = vae.explain(Float32Array.from([3, 1.05, 0]));
      expect(e.errors).toHaveLength(2);
      expect(e.shares).toHaveLength(3);
      // The explanation is what the row did (feature 0 above all), never the context it was given.
      expect(e.gradient[2]).not.toBe(0);
      expect(e.shares[2]).toBe(0);
      expect(e.shares[0]! + e.shares[1]!).toBeCloseTo(1, 5);
      expect(e.shares[0]).toBeGreaterThan(e.shares[1]!);
      expect(e.expected[2]).toBe(0);
      expect(e.expected[0]).toBeLessThan(1);
    } finally {
      vae.dispose();
    }
  });

  it('round-trips through its saved state, and refuses a state that does not fit', () => {
    const vae = trained();
    try {
      const state = JSON.parse(JSON.stringify(vae.state())) as ReturnType<TrafficVae['state']>;
      const back = TrafficVae.fromState(state);
      const probe = normalRows(10, 41);
      expect(back.score(probe).map((s) => s.toFixed(4))).toEqual(vae.score(probe).map((s) => s.toFixed(4)));
      expect(back.trained).toBe(true);
      back.dispose();
      expect(() => TrafficVae.fromState({ ...state, center: state.center.slice(1) })).toThrow(/scaler has 9 features, the model 10/);
      const bad = structuredClone(state);
      bad.weights[0]!.shape = [3, 3];
      expect(() => TrafficVae.fromState(bad)).toThrow(/saved weight 0 has shape \[3, 3\]/);
      const nan = structuredClone(state);
      nan.weights[1]!.values[0] = Number.NaN;
      expect(() => TrafficVae.fromState(nan)).toThrow(/not a number/);
    } finally {
      vae.dispose();
    }
  });
});
