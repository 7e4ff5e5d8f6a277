import { describe, expect, it } from 'vitest';
import { IncidentAlerts } from '../../../src/main/desktop/alerts';
import { reportNotification, reportNotificationShown, type NotificationText } from '../../../src/main/desktop/notifications';
import { appUrl, APP_ENTRY, reportRoute } from '../../../src/main/desktop/trust';
import { silentLogger } from '../../../src/main/engine/log';
import type { SettingsView } from '../../../src/shared/contract';
import { statusWith } from './support/status';

/**
 * The daily report's notification. Electron cannot be launched on these machines, so what the
 * desktop shows is decided by pure functions tested here; notify.ts only hands the text to
 * Electron's Notification.
 */

// 2026-12-05 10:00 local: the report of 2026-12-05 covers the 24 hours up to 09:00 today.
const now = new Date(2026, 11, 5, 10, 0).getTime();
const summary = { incidents: 1, newListeners: 3, newTalkers: 0 };

describe('the daily report notification', () => {
  it('says what yesterday brought, quietly', () => {
    expect(reportNotification({ day: '2026-12-05', summary }, now)).toEqual({
      title: 'Portent, yesterday: 1 incident, 3 new listeners',
      body: 'The daily report is ready: click to open it.',
      silent: true,
    });
    expect(reportNotification({ day: '2026-12-05', summary: { incidents: 0, newListeners: 1, newTalkers: 2 } }, now).title).toBe(
      'Portent, yesterday: 0 incidents, 1 new listener, 2 new programs talking out',
    );
  });

  it('names the day of a report made up days later', () => {
    expect(reportNotification({ day: '2026-12-01', summary }, now).title).toBe('Portent, 2026-12-01: 1 incident, 3 new listeners');
  });

  it('is not shown while notifications are off or snoozed', () => {
    expect(reportNotificationShown({ enabled: true, maxPerHour: 4, snoozedUntil: null, now })).toBe(true);
    expect(reportNotificationShown({ enabled: false, maxPerHour: 4, snoozedUntil: null, now })).toBe(false);
    expect(reportNotificationShown({ enabled: true, maxPerHour: 4, snoozedUntil: now + 1, now })).toBe(false);
    expect(reportNotificationShown({ enabled: true, maxPerHour: 4, snoozedUntil: now, now })).toBe(true);
  });

  it('opens the window on the Report view of its day', async () => {
    const shown: { text: NotificationText; click: () => void }[] = [];
    const opened: string[] = [];
    const settings: SettingsView = { values: {}, changed: [] };
    const alerts = new IncidentAlerts({
      api: { getSettings: () => settings, getStatus: () => statusWith({ snoozedUntil: null }) },
      show: (text, click) => shown.push({ text, click }),
      openIncident: () => {},
      openReport: (day) => opened.push(day),
      log: silentLogger,
      now: () => now,
    });
    await alerts.announceReport({ day: '2026-12-05', summary });
    expect(shown.map((s) => s.text.title)).toEqual(['Portent, yesterday: 1 incident, 3 new listeners']);
    shown[0]!.click();
    expect(opened).toEqual(['2026-12-05']);
    // The address the window is sent to: the route the Report view answers (test/renderer/router.test.ts).
    expect(appUrl(APP_ENTRY, reportRoute('2026-12-05'))).toBe('app://portent/index.html#/report/2026-12-05');
  });

  it('stays silent when notifications are off', async () => {
    const shown: NotificationText[] = [];
    const alerts = new IncidentAlerts({
      api: { getSettings: () => ({ values: { 'notifications.enabled': false }, changed: ['notifications.enabled'] }), getStatus: () => statusWith({ snoozedUntil: null }) },
      show: (text) => shown.push(text),
      openIncident: () => {},
      log: silentLogger,
      now: () => now,
    });
    await alerts.announceReport({ day: '2026-12-05', summary });
    expect(shown).toEqual([]);
  });
});
