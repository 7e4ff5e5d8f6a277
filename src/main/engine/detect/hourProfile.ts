import type { RoundFeatures } from './features';

/**
 * How often each port has been open at each time of day, counted rather than learned, and the
 * ceiling it puts on the model's logits when a round is scored (see docs/detection.md,
 * "Hour-of-day profile").
 *
 * The decoder learns a port's daily rhythm through 9 time weights, by gradient descent. For a
 * port that is open a quarter of the time but never at night, the cross-entropy of a closed cell
 * at p ≈ 10⁻³ has almost no gradient left, so the night-time probability stops near 10⁻³
 * (≈ 6 nats when it opens), while a week of counts says "0 of 900 rounds at this time of day".
 * The profile says that: where an open port's frequency near the round's time of day, p̂(t), is
 * below its overall frequency p̄, the cell's logit is at most logit p̂(t) (a ceiling). The
 * converse holds too: where p̂(t) is at least p̄ (the port's usual time of day), the open cell's
 * logit is at least logit p̂(t) (a floor), so a nightly job seen on one night is not a surprise on
 * the next at the same time, however little the model learned from twenty rounds. Closed ports
 * and ports never counted are not bounded, so the model keeps everything else (a service that
 * stops, a port never seen).
 *
 * Counts are kept per local hour of day and smoothed with a triangular kernel two hours wide, so
 * a service starting twenty minutes earlier than ever is not a surprise; they decay with a
 * half-life of four weeks (in rounds), so a schedule that moved is forgotten in time. Only rounds
 * the model trains on (normal or approved by the user) are counted: an intrusion never makes its
 * hour usual.
 */
export const HOUR_BINS = 24;

/** JSON-serialisable, stored in the model's metadata. */
export interface HourCounts {
  /** Rounds counted per local hour of day (decayed). */
  rounds: number[];
  /** Per cell index (as a string key): rounds in which it was occupied, per hour (decayed). */
  cells: Record<string, number[]>;
}

export interface ProfileOptions {
  /** Kernel half-width in hours. */
  widthHours: number;
  /** Pseudo-rounds pulling a time of day towards the port's overall frequency. */
  prior: number;
  /** Half-life of counts, in rounds (4 weeks of one-minute rounds). */
  halfLifeRounds: number;
  /** Probabilities are clamped to [clamp, 1 − clamp], as the decoder bias is. */
  clamp: number;
  /** Cells whose decayed count falls below this are forgotten, keeping the table small. */
  forgetBelow: number;
}

export const DEFAULT_PROFILE_OPTIONS: ProfileOptions = { widthHours: 2, prior: 1, halfLifeRounds: 28 * 1440, clamp: 1e-6, forgetBelow: 0.5 };

export function emptyHourCounts(): HourCounts {
  return { rounds: new Array<number>(HOUR_BINS).fill(0), cells: {} };
}

/** Whether `value` has the shape of stored counts (a model's metadata is read from disk). */
export function isHourCounts(value: unknown): value is HourCounts {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<HourCounts>;
  const row = (r: unknown) => Array.isArray(r) && r.length === HOUR_BINS && r.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0);
  return row(v.rounds) && typeof v.cells === 'object' && v.cells !== null && Object.entries(v.cells).every(([k, r]) => /^\d+$/.test(k) && row(r));
}

function hourOf(startedAt: number): number {
  return new Date(startedAt).getHours();
}

/** Local time of day in hours, fractional. */
function timeOfDay(startedAt: number): number {
  const d = new Date(startedAt);
  return d.getHours() + d.getMinutes() / 60 + d.getSeconds() / 3600;
}

/**
 * Adds `rounds` to `counts` (in place), after decaying what was there by the time they cover
 * (one round = one minute of the half-life), and forgets cells that have faded away.
 */
export function countRounds(counts: HourCounts, rounds: readonly RoundFeatures[], options: ProfileOptions = DEFAULT_PROFILE_OPTIONS): HourCounts {
  if (rounds.length === 0) return counts;
  const decay = Math.pow(0.5, rounds.length / options.halfLifeRounds);
  for (let h = 0; h < HOUR_BINS; h++) counts.rounds[h]! *= decay;
  for (const [key, row] of Object.entries(counts.cells)) {
    let total = 0;
    for (let h = 0; h < HOUR_BINS; h++) total += row[h]! *= decay;
    if (total < options.forgetBelow) delete counts.cells[key];
  }
  for (const r of rounds) {
    const h = hourOf(r.startedAt);
    counts.rounds[h]! += 1;
    for (const cell of r.active) {
      const row = (counts.cells[cell] ??= new Array<number>(HOUR_BINS).fill(0));
      row[h]! += 1;
    }
  }
  return counts;
}

const logit = (p: number) => Math.log(p / (1 - p));

/** The ceilings of one stored table, ready to be written into a batch. */
export class HourProfile {
  private readonly cells: Map<number, { row: number[]; overall: number }>;
  private readonly totalRounds: number;

  constructor(
    private readonly counts: HourCounts,
    private readonly options: ProfileOptions = DEFAULT_PROFILE_OPTIONS,
  ) {
    this.totalRounds = counts.rounds.reduce((a, b) => a + b, 0);
    this.cells = new Map(Object.entries(counts.cells).map(([key, row]) => [Number(key), { row, overall: row.reduce((a, b) => a + b, 0) }]));
  }

  /** Whether any cell has a count (an empty profile bounds nothing). */
  get empty(): boolean {
    return this.totalRounds <= 0 || this.cells.size === 0;
  }

  /** Kernel weight of each hour bin for a time of day (bins centred on h + 0.5, circular). */
  private weights(startedAt: number): number[] {
    const t = timeOfDay(startedAt);
    const w = this.options.widthHours;
    return Array.from({ length: HOUR_BINS }, (_, h) => {
      const d = Math.abs(t - (h + 0.5));
      return Math.max(0, 1 - Math.min(d, HOUR_BINS - d) / w);
    });
  }

  /** The largest logit the cell may have at that time: +Infinity when the counts set no bound. */
  ceilingOf(cell: number, startedAt: number): number {
    const k = this.weights(startedAt);
    const entry = this.cells.get(cell);
    return entry ? this.boundsFor(entry, k, this.smoothedRounds(k)).ceiling : Infinity;
  }

  /** The smallest logit the cell, open, may have at that time: −Infinity when the counts set no bound. */
  floorOf(cell: number, startedAt: number): number {
    const k = this.weights(startedAt);
    const entry = this.cells.get(cell);
    return entry ? this.boundsFor(entry, k, this.smoothedRounds(k)).floor : -Infinity;
  }

  /**
   * Writes the bounds of the occupied cells `active` of a round at `startedAt` from `at` (one slot
   * per cell): ceilings into `out`, and floors into `floors` when given. Only occupied cells are
   * bounded: the profile makes a port open at an hour it is never open as surprising as the
   * counts say, and one open at its usual hour no more surprising than they say; closed ports are
   * left to the model (lowering their logits could only make a closing less surprising, raising
   * them would hide a service that stopped). Slots of cells it does not bound are left as they are
   * (the caller fills them with "no bound"). Returns how many bounds it wrote.
   */
  write(startedAt: number, active: ArrayLike<number>, out: Float32Array, at: number, floors?: Float32Array): number {
    if (this.empty) return 0;
    let written = 0;
    let k: number[] | null = null;
    let n = 0;
    for (let i = 0; i < active.length; i++) {
      const entry = this.cells.get(active[i]!);
      if (!entry) continue;
      if (!k) {
        k = this.weights(startedAt);
        n = this.smoothedRounds(k);
      }
      const { ceiling, floor } = this.boundsFor(entry, k, n);
      if (ceiling !== Infinity) {
        out[at + active[i]!] = ceiling;
        written++;
      } else if (floors && floor !== -Infinity) {
        floors[at + active[i]!] = floor;
        written++;
      }
    }
    return written;
  }

  private smoothedRounds(k: readonly number[]): number {
    let n = 0;
    for (let h = 0; h < HOUR_BINS; h++) n += k[h]! * this.counts.rounds[h]!;
    return n;
  }

  /**
   * The counted probability p̂(t) as a bound: a ceiling below the port's overall frequency, a
   * floor at or above it.
   */
  private boundsFor(entry: { row: number[]; overall: number }, k: readonly number[], rounds: number): { ceiling: number; floor: number } {
    if (this.totalRounds <= 0) return { ceiling: Infinity, floor: -Infinity };
    const { clamp, prior } = this.options;
    const clampP = (p: number) => Math.min(1 - clamp, Math.max(clamp, p));
    const overall = clampP(entry.overall / this.totalRounds);
    let open = 0;
    for (let h = 0; h < HOUR_BINS; h++) open += k[h]! * entry.row[h]!;
    const here = clampP((open + prior * overall) / (rounds + prior));
    return here < overall ? { ceiling: logit(here), floor: -Infinity } : { ceiling: Infinity, floor: logit(here) };
  }
}
