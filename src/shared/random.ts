/** A seeded generator whose position can be read, to go on with it elsewhere (another thread). */
export type SeededRandom = (() => number) & {
  /** The generator's whole state: seededRandom(state()) gives the numbers this one would give next. */
  state(): number;
};

/**
 * A small seeded generator (mulberry32): benchmarks, simulations and fuzz tests replay exactly
 * from their seed. Its state is one 32-bit number, so a run split across threads can hand it on.
 */
export function seededRandom(seed: number): SeededRandom {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Object.assign(next, { state: () => a });
}

/** A whole number in [0, maxExclusive) drawn from `rand`. */
export function randomInt(rand: () => number, maxExclusive: number): number {
  return Math.floor(rand() * maxExclusive);
}
