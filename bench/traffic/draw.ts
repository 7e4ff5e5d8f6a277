import { seededRandom } from '../../src/shared/random';

/**
 * Draws from one seeded stream (mulberry32, src/shared/random.ts): the traffic bench replays
 * exactly from its seed. Each part of the simulation has its own stream (`Draw.stream`), so the
 * legitimate week is the same whether or not incidents are injected into it.
 */
export class Draw {
  constructor(readonly next: () => number) {}

  /** A stream for one part of the simulation, from the run's seed and the part's name. */
  static stream(seed: number, part: string): Draw {
    let h = (seed ^ 0x9e3779b9) >>> 0;
    for (let i = 0; i < part.length; i++) h = Math.imul(h ^ part.charCodeAt(i), 0x01000193) >>> 0;
    return new Draw(seededRandom(h));
  }

  uniform(a: number, b: number): number {
    return a + (b - a) * this.next();
  }

  /** A whole number from a to b, both included. */
  int(a: number, b: number): number {
    return a + Math.floor(this.next() * (b - a + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }

  shuffled<T>(xs: readonly T[]): T[] {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  logUniform(a: number, b: number): number {
    return Math.exp(this.uniform(Math.log(a), Math.log(b)));
  }

  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Log-normal with the given median; `sigma` is the spread of its logarithm. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** Exponential with the given mean: the gap between events of a Poisson process. */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  poisson(lambda: number): number {
    const l = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= this.next();
    } while (p > l && k < 1000);
    return k - 1;
  }

  /** `period` ± `jitter` (a fraction of it), uniform. */
  jittered(period: number, jitter: number): number {
    return period * (1 + this.uniform(-jitter, jitter));
  }
}

/** Picks ranks 0..n-1 with Zipf weights 1/(rank+1)^s: a few are very popular, most are rare. */
export class Zipf {
  private readonly cumulative: number[] = [];

  constructor(n: number, s = 1) {
    let sum = 0;
    for (let r = 0; r < n; r++) this.cumulative.push((sum += 1 / (r + 1) ** s));
    for (let r = 0; r < n; r++) this.cumulative[r]! /= sum;
  }

  rank(draw: Draw): number {
    const x = draw.next();
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
