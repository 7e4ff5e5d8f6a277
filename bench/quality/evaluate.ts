import { KINDS, type Injected, type IncidentKind, type PortRef } from './generator';

/**
 * Per-incident metrics. An injected incident is detected when an alert (an incident Portent
 * raised, or a baseline's run of flagged rounds) overlaps it, allowing the alert to start up to
 * `toleranceMs` after the injected one ended (the round that shows a service came back belongs
 * to its vanishing). An alert that overlaps no injected incident so widened is a false alert.
 *
 * For detectors that explain themselves (Portent, the rule baseline) the metrics are also given
 * counting only alerts that name one of the incident's ports (`named`): overlap alone can be
 * luck (an unrelated alert open at the time).
 */
export interface Span {
  start: number;
  end: number;
}

export interface Alert extends Span {
  /** The ports the alert's explanation names; absent for detectors that do not explain. */
  ports?: readonly PortRef[];
}

export interface Metrics {
  alerts: number;
  precision: number;
  recall: number;
  f1: number;
  false_alerts_per_day: number;
  mean_delay_min: number | null;
  recall_by_kind: Record<IncidentKind, number | null>;
  /**
   * The same, counting an alert as true only when it overlaps an injected incident *and* names
   * one of its ports, and an incident as detected only by such an alert. Null for detectors
   * that do not explain. A long alert about something else (a service never approved, open all
   * day) that happens to overlap an intrusion is true by overlap and false here.
   */
  named: NamedMetrics | null;
}

export interface NamedMetrics {
  precision: number;
  recall: number;
  f1: number;
  false_alerts_per_day: number;
  recall_by_kind: Record<IncidentKind, number | null>;
}

export const DEFAULT_TOLERANCE_MS = 10 * 60_000;

/** Whether an alert overlaps an injected incident, widened by the tolerance after its end. */
export const hits = (a: Span, i: Span, toleranceMs = DEFAULT_TOLERANCE_MS) => a.start <= i.end + toleranceMs && a.end >= i.start;

const sameRef = (a: PortRef, b: PortRef) => a.proto === b.proto && a.port === b.port;

export interface EvaluationWindow {
  /** Injected incidents and alerts that start in [from, to) are counted. */
  from: number;
  to: number;
}

/**
 * Metrics over a window: the incidents that start in it, the alerts that start in it (an alert
 * is true when it overlaps any injected incident, in the window or not), false alerts per day of
 * the window. `explains`: the alerts carry the ports their explanation names (recall_named).
 */
export function evaluate(alerts: readonly Alert[], injected: readonly Injected[], window: EvaluationWindow, options: { explains?: boolean; toleranceMs?: number } = {}): Metrics {
  const toleranceMs = options.toleranceMs ?? DEFAULT_TOLERANCE_MS;
  const days = (window.to - window.from) / 86_400_000;
  const inWindow = (t: number) => t >= window.from && t < window.to;
  const targets = injected.filter((i) => inWindow(i.start));
  const counted = alerts.filter((a) => inWindow(a.start));
  const names = (a: Alert, i: Injected) => a.ports?.some((p) => i.ports.some((q) => sameRef(p, q))) ?? false;
  const delays: number[] = [];
  const byKind = new Map<IncidentKind, { n: number; hit: number; named: number }>();
  let detected = 0;
  let named = 0;
  for (const i of targets) {
    const k = byKind.get(i.kind) ?? { n: 0, hit: 0, named: 0 };
    k.n++;
    const matching = alerts.filter((a) => hits(a, i, toleranceMs));
    if (matching.length) {
      detected++;
      k.hit++;
      delays.push(Math.max(0, Math.min(...matching.map((a) => a.start)) - i.start) / 60_000);
      if (matching.some((a) => names(a, i))) {
        named++;
        k.named++;
      }
    }
    byKind.set(i.kind, k);
  }
  const trueAlerts = counted.filter((a) => injected.some((i) => hits(a, i, toleranceMs))).length;
  const trueNamed = counted.filter((a) => injected.some((i) => hits(a, i, toleranceMs) && names(a, i))).length;
  const perKind = (f: (k: { n: number; hit: number; named: number }) => number) =>
    Object.fromEntries(
      KINDS.map((kind) => {
        const k = byKind.get(kind);
        return [kind, k ? round3(f(k) / k.n) : null];
      }),
    ) as Record<IncidentKind, number | null>;
  const scores = (t: number, d: number) => {
    const precision = counted.length ? t / counted.length : 0;
    const recall = targets.length ? d / targets.length : 0;
    return {
      precision: round3(precision),
      recall: round3(recall),
      f1: round3(precision + recall ? (2 * precision * recall) / (precision + recall) : 0),
      false_alerts_per_day: days > 0 ? round3((counted.length - t) / days) : 0,
    };
  };
  return {
    alerts: counted.length,
    ...scores(trueAlerts, detected),
    mean_delay_min: delays.length ? round3(delays.reduce((a, b) => a + b, 0) / delays.length) : null,
    recall_by_kind: perKind((k) => k.hit),
    named: options.explains ? { ...scores(trueNamed, named), recall_by_kind: perKind((k) => k.named) } : null,
  };
}

export const round3 = (x: number) => Math.round(x * 1000) / 1000;

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
