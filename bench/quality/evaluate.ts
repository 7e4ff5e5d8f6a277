import type { Injected, IncidentKind } from './generator';

/**
 * Per-incident metrics. An injected incident is detected when an alert (an incident Portent
 * raised) overlaps it, allowing the alert to start up to `toleranceMs` after the injected one
 * ended (the round that shows a service came back belongs to its vanishing). An alert that
 * overlaps no injected incident so widened is a false alert.
 */
export interface Span {
  start: number;
  end: number;
}

export interface Metrics {
  alerts: number;
  precision: number;
  recall: number;
  f1: number;
  false_alerts_per_day: number;
  mean_delay_min: number | null;
  recall_by_kind: Record<IncidentKind, number>;
}

export function evaluate(alerts: readonly Span[], injected: readonly Injected[], days: number, toleranceMs = 10 * 60_000): Metrics {
  const hits = (a: Span, i: Injected) => a.start <= i.end + toleranceMs && a.end >= i.start;
  const delays: number[] = [];
  const byKind = new Map<IncidentKind, { n: number; hit: number }>();
  let detected = 0;
  for (const i of injected) {
    const k = byKind.get(i.kind) ?? { n: 0, hit: 0 };
    k.n++;
    const matching = alerts.filter((a) => hits(a, i));
    if (matching.length) {
      detected++;
      k.hit++;
      delays.push(Math.max(0, Math.min(...matching.map((a) => a.start)) - i.start) / 60_000);
    }
    byKind.set(i.kind, k);
  }
  const trueAlerts = alerts.filter((a) => injected.some((i) => hits(a, i))).length;
  const precision = alerts.length ? trueAlerts / alerts.length : 0;
  const recall = injected.length ? detected / injected.length : 0;
  const kinds: IncidentKind[] = ['new-listener', 'vanished', 'unusual-hour', 'burst'];
  return {
    alerts: alerts.length,
    precision: round3(precision),
    recall: round3(recall),
    f1: round3(precision + recall ? (2 * precision * recall) / (precision + recall) : 0),
    false_alerts_per_day: round3((alerts.length - trueAlerts) / days),
    mean_delay_min: delays.length ? round3(delays.reduce((a, b) => a + b, 0) / delays.length) : null,
    recall_by_kind: Object.fromEntries(kinds.map((k) => [k, round3(byKind.get(k) ? byKind.get(k)!.hit / byKind.get(k)!.n : NaN)])) as Record<IncidentKind, number>,
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Consecutive flagged rounds (sorted by time, at most `maxStepMs` apart) as alert spans. */
export function spansOf(rounds: readonly { startedAt: number; flagged: boolean }[], maxStepMs = 150_000): Span[] {
  const out: Span[] = [];
  let cur: Span | null = null;
  let prevT = -Infinity;
  for (const r of rounds) {
    if (r.flagged) {
      if (cur && r.startedAt - prevT <= maxStepMs) cur.end = r.startedAt;
      else out.push((cur = { start: r.startedAt, end: r.startedAt }));
    } else cur = null;
    prevT = r.startedAt;
  }
  return out;
}
