import type { Db } from '../../src/main/engine/store/database';
import { plainAddress } from '../../src/main/engine/store/resolvedNames';
import { spread, type Spread } from '../quality/aggregate';
import { DEFAULT_TOLERANCE_MS, round3 } from '../quality/evaluate';
import { TRAFFIC_KINDS, type Incident, type TrafficKind } from './incidents';

/**
 * Scores a detector's alerts against the injected incidents. An alert finds an incident when
 * it overlaps it in time (allowing it to start up to `toleranceMs` after the incident ended,
 * as in bench/quality/evaluate.ts) and names it:
 * - an alert that names remote addresses or domains names the incident when one of them is the
 *   incident's (an address it talked with, the scanner, or a domain under the tunnel's domain);
 * - an alert that names neither names the incident when it names one of its pids, or, without a
 *   pid, its process name.
 * So an alert about the browser's new CDN that happens to fall inside a browser exfiltration
 * does not count, and an alert that says only "firefox" does. An alert that finds no incident
 * is a false alert.
 */
export interface TrafficAlert {
  /** The span the alert is about, ms. */
  start: number;
  end: number;
  /** When a detector running as the monitor does would have raised it (default: `start`); delays count from here. */
  raisedAt?: number;
  pid?: number | null;
  process?: string | null;
  remotes?: readonly string[];
  domains?: readonly string[];
  /** The detector's own word for what it saw (for per-alert-kind precision). */
  kind?: string;
  detail?: string;
}

/** A detector: reads the database, returns its alerts. The model plugs in here. */
export type TrafficDetector = (db: Db, options: DetectorOptions) => TrafficAlert[] | Promise<TrafficAlert[]>;

export interface DetectorOptions {
  start: number;
  end: number;
  /** Before this, the detector may only learn: alerts that start earlier are not counted. */
  learningEnd: number;
  /**
   * The injected incidents, for a simulated user only (they know what they did not do); a
   * detector itself never reads them.
   */
  incidents: readonly Incident[];
}

export interface KindMetrics {
  incidents: number;
  detected: number;
  recall: number | null;
  mean_delay_min: number | null;
  max_delay_min: number | null;
  /** Alerts that name an incident of this kind. */
  alerts_naming: number;
}

export interface TrafficMetrics {
  alerts: number;
  true_alerts: number;
  precision: number;
  recall: number;
  f1: number;
  false_alerts_per_day: number;
  mean_delay_min: number | null;
  by_kind: Record<TrafficKind, KindMetrics>;
  /** By the alerts' own kind: how many, and the share that named an incident. */
  by_alert_kind: Record<string, { alerts: number; precision: number }>;
}

export interface Window {
  from: number;
  to: number;
}

export const overlaps = (a: Pick<TrafficAlert, 'start' | 'end'>, i: Pick<Incident, 'start' | 'end'>, toleranceMs = DEFAULT_TOLERANCE_MS) => a.start <= i.end + toleranceMs && a.end >= i.start;

const underDomain = (name: string, domain: string) => {
  const n = name.toLowerCase().replace(/\.$/, '');
  return n === domain || n.endsWith(`.${domain}`);
};

export function names(a: TrafficAlert, i: Incident): boolean {
  const remotes = a.remotes ?? [];
  const domains = a.domains ?? [];
  if (remotes.length || domains.length) {
    return remotes.some((r) => i.remotes.includes(plainAddress(r))) || (i.domain !== null && domains.some((d) => underDomain(d, i.domain!)));
  }
  if (a.pid != null) return i.pids.includes(a.pid);
  return a.process != null && a.process === i.process;
}

export const finds = (a: TrafficAlert, i: Incident, toleranceMs = DEFAULT_TOLERANCE_MS) => overlaps(a, i, toleranceMs) && names(a, i);

/**
 * Metrics over a window (normally the days after learning): the incidents that start in it,
 * the alerts that start in it (true when they find any incident), false alerts per day of it.
 */
export function evaluateTraffic(alerts: readonly TrafficAlert[], incidents: readonly Incident[], window: Window, options: { toleranceMs?: number } = {}): TrafficMetrics {
  const tol = options.toleranceMs ?? DEFAULT_TOLERANCE_MS;
  const inWindow = (t: number) => t >= window.from && t < window.to;
  const targets = incidents.filter((i) => inWindow(i.start));
  const counted = alerts.filter((a) => inWindow(a.start));
  const days = (window.to - window.from) / 86_400_000;
  const byKind = Object.fromEntries(TRAFFIC_KINDS.map((k) => [k, { incidents: 0, detected: 0, delays: [] as number[], naming: 0 }]));
  const delays: number[] = [];
  for (const i of targets) {
    const k = byKind[i.kind]!;
    k.incidents++;
    const found = alerts.filter((a) => finds(a, i, tol));
    if (!found.length) continue;
    k.detected++;
    const delay = Math.max(0, Math.min(...found.map((a) => a.raisedAt ?? a.start)) - i.start) / 60_000;
    k.delays.push(delay);
    delays.push(delay);
  }
  let trueAlerts = 0;
  const byAlertKind = new Map<string, { alerts: number; true: number }>();
  for (const a of counted) {
    const named = incidents.filter((i) => finds(a, i, tol));
    if (named.length) trueAlerts++;
    for (const kind of new Set(named.map((i) => i.kind))) byKind[kind]!.naming++;
    const ak = byAlertKind.get(a.kind ?? 'unlabelled') ?? { alerts: 0, true: 0 };
    ak.alerts++;
    if (named.length) ak.true++;
    byAlertKind.set(a.kind ?? 'unlabelled', ak);
  }
  const precision = counted.length ? trueAlerts / counted.length : 0;
  const detected = targets.filter((i) => alerts.some((a) => finds(a, i, tol))).length;
  const recall = targets.length ? detected / targets.length : 0;
  const mean = (xs: number[]) => (xs.length ? round3(xs.reduce((s, x) => s + x, 0) / xs.length) : null);
  return {
    alerts: counted.length,
    true_alerts: trueAlerts,
    precision: round3(precision),
    recall: round3(recall),
    f1: round3(precision + recall ? (2 * precision * recall) / (precision + recall) : 0),
    false_alerts_per_day: days > 0 ? round3((counted.length - trueAlerts) / days) : 0,
    mean_delay_min: mean(delays),
    by_kind: Object.fromEntries(
      TRAFFIC_KINDS.map((kind) => {
        const k = byKind[kind]!;
        return [kind, { incidents: k.incidents, detected: k.detected, recall: k.incidents ? round3(k.detected / k.incidents) : null, mean_delay_min: mean(k.delays), max_delay_min: k.delays.length ? round3(Math.max(...k.delays)) : null, alerts_naming: k.naming }];
      }),
    ) as Record<TrafficKind, KindMetrics>,
    by_alert_kind: Object.fromEntries([...byAlertKind].sort().map(([k, v]) => [k, { alerts: v.alerts, precision: round3(v.true / v.alerts) }])),
  };
}

export interface TrafficSpread {
  precision: Spread;
  recall: Spread;
  f1: Spread;
  false_alerts_per_day: Spread;
  mean_delay_min: Spread;
  recall_by_kind: Record<TrafficKind, Spread>;
  delay_by_kind: Record<TrafficKind, Spread>;
}

/** Mean, sample standard deviation, min and max over seeds of one detector's metrics. */
export function spreadOfTraffic(list: readonly TrafficMetrics[]): TrafficSpread {
  return {
    precision: spread(list.map((m) => m.precision)),
    recall: spread(list.map((m) => m.recall)),
    f1: spread(list.map((m) => m.f1)),
    false_alerts_per_day: spread(list.map((m) => m.false_alerts_per_day)),
    mean_delay_min: spread(list.map((m) => m.mean_delay_min)),
    recall_by_kind: Object.fromEntries(TRAFFIC_KINDS.map((k) => [k, spread(list.map((m) => m.by_kind[k].recall))])) as Record<TrafficKind, Spread>,
    delay_by_kind: Object.fromEntries(TRAFFIC_KINDS.map((k) => [k, spread(list.map((m) => m.by_kind[k].mean_delay_min))])) as Record<TrafficKind, Spread>,
  };
}
