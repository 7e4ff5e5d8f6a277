import { timeContext, type RoundFeatures } from '../../../../../src/main/engine/detect/features';
import { seededRandom } from '../../../../../src/shared/random';

/** `n` rounds, one a minute, each with 3 to 8 seeded open cells among `ports` × 2 channels. */
export function seededRounds(n: number, seed: number, ports: number): RoundFeatures[] {
  const r = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const cells = new Set(Array.from({ length: 3 + Math.floor(r() * 6) }, () => Math.floor(r() * ports * 2)));
    return { roundId: i + 1, startedAt: 1.7e12 + i * 60_000, active: Int32Array.from(cells).sort(), ephemeralUdp: 0, context: timeContext(1.7e12 + i * 60_000, 0) };
  });
}
