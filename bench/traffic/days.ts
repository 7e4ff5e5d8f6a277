import { dayStartOf } from '../quality/generator';
import type { Draw } from './draw';
import { HOUR, MINUTE } from './world';

/**
 * When the user is at the keyboard. The machine is a desktop that stays on and logged in (the
 * screen locks at night); what changes through the day is how much its user does with it.
 * Weekdays: a morning and an afternoon block with coffee breaks, some evenings; weekends: a
 * few sessions at any time from late morning. Times are local, like the user's day.
 */
export interface DayPlan {
  start: number;
  weekend: boolean;
  /** Spans of activity, in time order. */
  active: [number, number][];
}

export { dayStartOf };

function block(draw: Draw, from: number, to: number): [number, number][] {
  // One or two short breaks cut a block.
  const out: [number, number][] = [];
  let t = from;
  for (let i = draw.int(0, 2); i > 0; i--) {
    const at = draw.uniform(t + 30 * MINUTE, to - 30 * MINUTE);
    if (at <= t) break;
    out.push([t, at]);
    t = at + draw.uniform(5, 15) * MINUTE;
  }
  if (to > t) out.push([t, to]);
  return out;
}

export function planDays(start: number, days: number, draw: Draw): DayPlan[] {
  const plans: DayPlan[] = [];
  for (let d = 0; d < days; d++) {
    const day = dayStartOf(start, d);
    const dow = new Date(day).getDay();
    const weekend = dow === 0 || dow === 6;
    const at = (h: number, jitterMin: number) => day + h * HOUR + draw.uniform(-jitterMin, jitterMin) * MINUTE;
    const active: [number, number][] = [];
    if (!weekend) {
      active.push(...block(draw, at(8.5, 20), at(12.2, 15)));
      active.push(...block(draw, at(13, 15), at(18.3, 30)));
      if (draw.chance(0.35)) active.push([at(20, 30), at(22.5, 30)]);
    } else {
      let t = at(10.5, 60);
      for (let n = draw.int(1, 3); n > 0 && t < day + 23 * HOUR; n--) {
        const end = Math.min(t + draw.uniform(0.5, 3) * HOUR, day + 23.5 * HOUR);
        active.push([t, end]);
        t = end + draw.uniform(1, 5) * HOUR;
      }
    }
    plans.push({ start: day, weekend, active });
  }
  return plans;
}

/** Whether the user is active at `t`, from the plans (sorted). */
export function activeAt(plans: readonly DayPlan[], t: number): boolean {
  for (const p of plans) for (const [a, b] of p.active) if (t >= a && t < b) return true;
  return false;
}
