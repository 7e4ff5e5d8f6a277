import type { Handlers } from '../../shared/contract';
import type { Logger } from '../engine/log';
import {
  incidentNotification, NotificationLimiter, notificationSettings, planNotifications, reportNotification, reportNotificationShown, type NotifiableIncident, type NotificationText,
} from './notifications';
import type { ReportSummary } from '../../shared/contract';

export interface AlertsDeps {
  api: Pick<Handlers, 'getStatus' | 'getSettings'>;
  /** Shows one native notification; `onClick` runs when the user clicks it. */
  show(text: NotificationText, onClick: () => void): void;
  openIncident(id: number): void;
  /** Opens the window's Report view on a day. */
  openReport?(day: string): void;
  log: Logger;
  now?: () => number;
}

/**
 * Turns the engine's new incidents into desktop notifications, reading the settings and the
 * snooze at the moment they arrive so a change made a second ago applies.
 */
export class IncidentAlerts {
  private readonly limiter = new NotificationLimiter();

  constructor(private readonly deps: AlertsDeps) {}

  async announce(incidents: readonly NotifiableIncident[]): Promise<void> {
    const { api, log } = this.deps;
    try {
      const [settings, status] = await Promise.all([api.getSettings(), api.getStatus()]);
      const now = (this.deps.now ?? Date.now)();
      const plan = planNotifications(incidents, { ...notificationSettings(settings.values), snoozedUntil: status.snoozedUntil, now }, this.limiter);
      for (const incident of plan.show) this.deps.show(incidentNotification(incident), () => this.deps.openIncident(incident.id));
      if (plan.silenced.count > 0) log.info('incidents not announced', { count: plan.silenced.count, reason: plan.silenced.reason });
    } catch (err) {
      log.error('could not announce incidents', { error: String(err) });
    }
  }

  /** The daily report's notification, when notifications are on and not snoozed; a click opens the report. */
  async announceReport(notice: { day: string; summary: ReportSummary }): Promise<void> {
    const { api, log } = this.deps;
    try {
      const [settings, status] = await Promise.all([api.getSettings(), api.getStatus()]);
      const now = (this.deps.now ?? Date.now)();
      if (!reportNotificationShown({ ...notificationSettings(settings.values), snoozedUntil: status.snoozedUntil, now })) {
        log.info('daily report not announced: notifications are off or snoozed', { day: notice.day });
        return;
      }
      this.deps.show(reportNotification(notice, now), () => this.deps.openReport?.(notice.day));
    } catch (err) {
      log.error('could not announce the daily report', { error: String(err) });
    }
  }
}
