import type { IncidentSummary, ReportSummary } from '../../shared/contract';
import { checkSetting, SETTINGS } from '../../shared/settings';
import { reportHeadline } from '../../shared/reportFormat';
import { localDay } from '../engine/report/reportPeriod';

/**
 * Which new incidents get a desktop notification, and what it says. One notification per
 * incident, never per round; none while notifications are off or snoozed; at most
 * `notifications.maxPerHour` in any hour. Incidents left unannounced still count in the tray.
 */

export type NotifiableIncident = Pick<IncidentSummary, 'id' | 'sentence' | 'status' | 'startedAt'>;

export interface NotificationText {
  title: string;
  body: string;
  /** Shown without a sound (the daily report: news, not an alarm). */
  silent?: boolean;
}

export function incidentNotification(incident: Pick<IncidentSummary, 'sentence'>): NotificationText {
  return { title: 'Portent noticed something unusual', body: incident.sentence };
}

export interface NotificationSettings {
  enabled: boolean;
  maxPerHour: number;
}

/** The notification settings from `getSettings().values`; a missing or invalid value means its default. */
export function notificationSettings(values: Record<string, unknown>): NotificationSettings {
  const enabled = checkSetting('notifications.enabled', values['notifications.enabled']);
  const maxPerHour = checkSetting('notifications.maxPerHour', values['notifications.maxPerHour']);
  return {
    enabled: enabled.ok ? enabled.value : SETTINGS['notifications.enabled'].default,
    maxPerHour: maxPerHour.ok ? maxPerHour.value : SETTINGS['notifications.maxPerHour'].default,
  };
}

const HOUR_MS = 3_600_000;
/** Announcements remembered to avoid making one twice; far more than an hour can bring. */
const REMEMBERED_IDS = 1000;

/** A sliding one-hour window of shown notifications, plus the incidents already announced. */
export class NotificationLimiter {
  private shownAt: number[] = [];
  private announced = new Set<number | string>();

  /**
   * Records an announcement as handled; false when it was already. The key is an incident id,
   * or an id with what it says now (an incident a new listener joined is news again).
   */
  firstTime(key: number | string): boolean {
    if (this.announced.has(key)) return false;
    this.announced.add(key);
    // Sets iterate in insertion order: the oldest go first.
    if (this.announced.size > REMEMBERED_IDS) this.announced.delete(this.announced.values().next().value as number | string);
    return true;
  }

  /** Takes one slot of the hour if there is one left. */
  take(now: number, maxPerHour: number): boolean {
    this.shownAt = this.shownAt.filter((t) => now - t < HOUR_MS);
    if (this.shownAt.length >= maxPerHour) return false;
    this.shownAt.push(now);
    return true;
  }
}

export interface NotifyContext extends NotificationSettings {
  snoozedUntil: number | null;
  now: number;
}

export interface NotificationPlan<T> {
  show: T[];
  /** New incidents not announced, and why. */
  silenced: { count: number; reason: 'disabled' | 'snoozed' | 'rate limit' | null };
}

export function planNotifications<T extends NotifiableIncident>(incidents: readonly T[], ctx: NotifyContext, limiter: NotificationLimiter): NotificationPlan<T> {
  const fresh = incidents.filter((i) => i.status === 'new' && limiter.firstTime(`${i.id}:${i.sentence}`)).sort((a, b) => a.startedAt - b.startedAt || a.id - b.id);
  if (fresh.length === 0) return { show: [], silenced: { count: 0, reason: null } };
  if (!ctx.enabled) return { show: [], silenced: { count: fresh.length, reason: 'disabled' } };
  if (ctx.snoozedUntil !== null && ctx.snoozedUntil > ctx.now) return { show: [], silenced: { count: fresh.length, reason: 'snoozed' } };
  const show = fresh.filter(() => limiter.take(ctx.now, ctx.maxPerHour));
  const left = fresh.length - show.length;
  return { show, silenced: { count: left, reason: left > 0 ? 'rate limit' : null } };
}

/**
 * The daily report's one quiet notification: "Portent, yesterday: 1 incident, 3 new listeners".
 * A report made up days later names its day instead of "yesterday".
 */
export function reportNotification(notice: { day: string; summary: ReportSummary }, now: number): NotificationText {
  const when = notice.day === localDay(now) ? 'yesterday' : notice.day;
  return { title: `Portent, ${when}: ${reportHeadline(notice.summary)}`, body: 'The daily report is ready: click to open it.', silent: true };
}

/** Whether the daily report is announced: not while notifications are off or snoozed (it waits in the window). */
export function reportNotificationShown(ctx: NotifyContext): boolean {
  return ctx.enabled && (ctx.snoozedUntil === null || ctx.snoozedUntil <= ctx.now);
}
