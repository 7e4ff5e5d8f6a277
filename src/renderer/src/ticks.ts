/**
 * Axis ticks a person can read: values at round steps (1, 2, 2.5 or 5 times a power of ten)
 * printed with just enough decimals to tell them apart, and times at clock steps (on the
 * minute, the quarter hour, midnight) few enough for their labels not to touch. Pure, so each
 * chart's axes are tested without drawing.
 */

export interface ValueTicks {
  /** Tick values, ascending, all distinct. */
  values: number[];
  /** The axis range the ticks span: a tick on each end. */
  min: number;
  max: number;
  /** Decimals that print every tick distinctly. */
  decimals: number;
}

const MANTISSAS = [1, 2, 2.5, 5, 10];

/** The smallest round step that cuts `span` into at most `count` parts. */
export function niceStep(span: number, count: number): number {
  const rough = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(rough));
  for (const m of MANTISSAS) if (m * power >= rough * (1 - 1e-9)) return m * power;
  return 10 * power;
}

function decimalsOf(step: number): number {
  // 2.5 × 10^k needs one more decimal than 10^k; others as many as the power asks for.
  for (let d = 0; d <= 12; d++) if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-6) return d;
  return 12;
}

/**
 * Ticks from a little below `lo` to a little above `hi`, at most `count` + 1 of them. A flat
 * series (every score 0.69) still gets an axis with distinct labels around its value.
 */
export function niceTicks(lo: number, hi: number, count = 4): ValueTicks {
  let a = Math.min(lo, hi);
  let b = Math.max(lo, hi);
  if (!Number.isFinite(a) || !Number.isFinite(b)) [a, b] = [0, 1];
  if (b - a < 1e-12) {
    const pad = a === 0 ? 1 : Math.abs(a) * 0.1;
    a -= pad;
    b += pad;
  }
  const step = niceStep(b - a, count);
  const min = Math.floor(a / step + 1e-9) * step;
  const max = Math.ceil(b / step - 1e-9) * step;
  const decimals = decimalsOf(step);
  const values: number[] = [];
  for (let i = 0; min + i * step <= max + step * 1e-6; i++) values.push(Number((min + i * step).toFixed(decimals)));
  return { values, min: values[0]!, max: values.at(-1)!, decimals };
}

/** A tick value with its axis's decimals ("0.65", "12", "0.0025"). */
export function formatTick(value: number, decimals: number): string {
  return value.toFixed(decimals);
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TIME_STEPS = [SECOND, 5 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY];

/** How much width a time label needs, so ticks are never closer than this. */
export const TIME_LABEL_PX = 80;

export interface TimeTick {
  at: number;
  label: string;
}

function startOfLocalDay(t: number): number {
  const d = new Date(t);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

const clock = (t: number, seconds: boolean) =>
  new Date(t).toLocaleTimeString(undefined, seconds ? { hour: '2-digit', minute: '2-digit', second: '2-digit' } : { hour: '2-digit', minute: '2-digit' });
const day = (t: number) => new Date(t).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });

/**
 * Clock-time ticks in [from, to] for an axis `widthPx` wide: the finest clock step that leaves
 * TIME_LABEL_PX per label, aligned to local time. A tick at local midnight reads as the date,
 * the others as the time (with seconds only when the step is under a minute).
 */
export function timeTicks(from: number, to: number, widthPx: number): TimeTick[] {
  if (!(to > from)) return [];
  const count = Math.max(1, Math.floor(widthPx / TIME_LABEL_PX));
  const step = TIME_STEPS.find((s) => (to - from) / s <= count) ?? Math.ceil((to - from) / count / DAY) * DAY;
  const ticks: TimeTick[] = [];
  if (step >= DAY) {
    // Local midnights, every step days (a day is not always 24 hours where the clocks change).
    const days = Math.round(step / DAY);
    const d = new Date(startOfLocalDay(from));
    if (d.getTime() < from) d.setDate(d.getDate() + 1);
    for (let i = 0; d.getTime() <= to; i++) {
      if (i % days === 0) ticks.push({ at: d.getTime(), label: day(d.getTime()) });
      d.setDate(d.getDate() + 1);
    }
    return ticks;
  }
  // Steps within a day count from the local midnight before `from`.
  const base = startOfLocalDay(from);
  for (let t = base + Math.ceil((from - base) / step) * step; t <= to; t += step) {
    const midnight = startOfLocalDay(t) === t;
    ticks.push({ at: t, label: midnight ? day(t) : clock(t, step < MINUTE) });
  }
  return ticks;
}

/**
 * How a time label sits on its tick, given the tick's place across the axis (0..1) and the axis'
 * width: centred, except near an end, where a centred label would spill out of the chart (and
 * out of a narrow window): there it is aligned to stay inside.
 */
export function tickAlign(fraction: number, widthPx: number): 'center' | 'start' | 'end' {
  const half = TIME_LABEL_PX / 2 / Math.max(1, widthPx);
  if (fraction > 1 - half) return 'end';
  if (fraction < half) return 'start';
  return 'center';
}
