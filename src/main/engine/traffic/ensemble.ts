import { seededRandom } from '../../../shared/random';
import { TrafficVae, type Explanation, type FitOptions, type FitResult, type TrafficVaeConfig, type TrafficVaeState } from './vae';

/**
 * The traffic model as several small VAEs trained side by side on the same rows, each from its
 * own initial weights, shuffling and latent noise, a row's score being the mean of theirs
 * (docs/detection.md, "Traffic model", "Several members"). One small autoencoder's errors on rare
 * but normal rows depend on where its training started, and the threshold, fitted to the tail of
 * the held-out scores, follows them: on one simulated week one draw calibrated it at 9-14 and
 * another at 15-42, and recall on that week fell from 1.00 to 0.50. The members agree on what
 * they all learned (a row unlike any normal one scores high in each) and disagree on what one of
 * them happened to miss, so the mean keeps the first and shrinks the second. Kitsune scores
 * packets the same way, with an ensemble of small autoencoders. The explanation stays GEE's: the
 * gradient of the mean score is the mean of the members' gradients.
 */
export const DEFAULT_MEMBERS = 5;

export interface EnsembleFitResult {
  /** Each member's epochs and the epoch it kept. */
  members: FitResult[];
}

export class TrafficEnsemble {
  private constructor(readonly members: readonly TrafficVae[]) {
    if (members.length === 0) throw new Error('a traffic ensemble needs at least one member');
  }

  /** `size` new members, their initial weights drawn from `seed`. */
  static create(inputs: number, seed: number, size = DEFAULT_MEMBERS, config: Partial<Omit<TrafficVaeConfig, 'inputs'>> = {}): TrafficEnsemble {
    if (!Number.isInteger(size) || size < 1) throw new Error(`a traffic ensemble needs a whole number of members, at least 1, got ${size}`);
    const rand = seededRandom(seed);
    const members: TrafficVae[] = [];
    try {
      for (let i = 0; i < size; i++) members.push(TrafficVae.create(inputs, Math.floor(rand() * 2 ** 31), config));
    } catch (err) {
      members.forEach((m) => m.dispose());
      throw err;
    }
    return new TrafficEnsemble(members);
  }

  /** The members from their saved states; throws with the member and the reason when one does not fit. */
  static fromStates(states: readonly TrafficVaeState[]): TrafficEnsemble {
    if (!Array.isArray(states) || states.length === 0) throw new Error('the saved traffic model has no members');
    const members: TrafficVae[] = [];
    try {
      states.forEach((s, i) => {
        try {
          members.push(TrafficVae.fromState(s));
        } catch (err) {
          throw new Error(`member ${i + 1} of ${states.length}: ${(err as Error).message}`, { cause: err });
        }
      });
      const widths = new Set(members.map((m) => `${m.config.inputs}+${m.config.conditions}`));
      if (widths.size > 1) throw new Error(`the saved members take different inputs (${[...widths].join(', ')})`);
    } catch (err) {
      members.forEach((m) => m.dispose());
      throw err;
    }
    return new TrafficEnsemble(members);
  }

  states(): TrafficVaeState[] {
    return this.members.map((m) => m.state());
  }

  get trained(): boolean {
    return this.members.every((m) => m.trained);
  }

  /**
   * Trains every member on the same rows and validation rows, each with its own seed drawn from
   * `options.seed` (its shuffling and noise), each keeping its own best epoch.
   */
  fit(rows: readonly Float32Array[], options: FitOptions): EnsembleFitResult {
    const rand = seededRandom(options.seed);
    return { members: this.members.map((m) => m.fit(rows, { ...options, seed: Math.floor(rand() * 2 ** 31) })) };
  }

  /** Each row's score: the mean of the members' scores. */
  score(rows: readonly Float32Array[]): number[] {
    const out = new Array<number>(rows.length).fill(0);
    for (const m of this.members) m.score(rows).forEach((s, i) => (out[i]! += s));
    return out.map((s) => s / this.members.length);
  }

  /**
   * The mean score's explanation: its value, each feature's error and the model's expectation
   * averaged over the members, the gradient of the mean (the mean of the gradients), and the
   * shares of that gradient over the reconstructed features.
   */
  explain(row: Float32Array): Explanation {
    const each = this.members.map((m) => m.explain(row));
    const k = this.members[0]!.config.inputs;
    const avg = (pick: (e: Explanation) => Float32Array) => {
      const out = new Float32Array(pick(each[0]!).length);
      for (const e of each) pick(e).forEach((v, i) => (out[i]! += v / each.length));
      return out;
    };
    const gradient = avg((e) => e.gradient);
    const total = gradient.subarray(0, k).reduce((a, g) => a + Math.abs(g), 0);
    const shares = Float32Array.from(gradient, (g, i) => (i < k && total > 0 ? Math.abs(g) / total : 0));
    return { score: each.reduce((a, e) => a + e.score, 0) / each.length, errors: avg((e) => e.errors), gradient, shares, expected: avg((e) => e.expected) };
  }

  dispose(): void {
    this.members.forEach((m) => m.dispose());
  }
}
