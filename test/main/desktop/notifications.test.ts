import { describe, expect, it } from 'vitest';
import { incidentNotification, NotificationLimiter, notificationSettings, planNotifications, type NotifiableIncident } from '../../../src/main/desktop/notifications';

const HOUR = 3_600_000;
const t0 = 1_800_000_000_000;

function incident(id: number, overrides: Partial<NotifiableIncident> = {}): NotifiableIncident {
  return { id, status: 'new', startedAt: t0 + id, sentence: `Port ${4440 + id}/tcp started listening: /tmp/x (pid 3121), never seen before`, ...overrides };
}

const on = { enabled: true, maxPerHour: 4, snoozedUntil: null };

describe('notification text', () => {
  it('says what happened in the incident’s own sentence', () => {
    expect(incidentNotification({ sentence: 'Port 4444/tcp started listening: /tmp/x (pid 3121), never seen before' })).toEqual({
      title: 'Portent noticed something unusual',
      body: 'Port 4444/tcp started listening: /tmp/x (pid 3121), never seen before',
    });
  });
});

describe('notification settings', () => {
  it('reads the two settings, falling back to defaults for missing or invalid values', () => {
    expect(notificationSettings({ 'notifications.enabled': false, 'notifications.maxPerHour': 10 })).toEqual({ enabled: false, maxPerHour: 10 });
    expect(notificationSettings({})).toEqual({ enabled: true, maxPerHour: 4 });
    expect(notificationSettings({ 'notifications.enabled': 'yes', 'notifications.maxPerHour': 0 })).toEqual({ enabled: true, maxPerHour: 4 });
  });
});

describe('which incidents are announced', () => {
  it('one notification per new incident, oldest first', () => {
    const plan = planNotifications([incident(2), incident(1)], { ...on, now: t0 }, new NotificationLimiter());
    expect(plan.show.map((i) => i.id)).toEqual([1, 2]);
    expect(plan.silenced).toEqual({ count: 0, reason: null });
  });

  it('never announces an incident twice, nor one already seen or expected', () => {
    const limiter = new NotificationLimiter();
    expect(planNotifications([incident(1)], { ...on, now: t0 }, limiter).show).toHaveLength(1);
    expect(planNotifications([incident(1), incident(2, { status: 'seen' }), incident(3, { status: 'expected' })], { ...on, now: t0 + 1 }, limiter).show).toEqual([]);
  });

  it('announces a running incident again when a new listener joined it (its sentence changed)', () => {
    const limiter = new NotificationLimiter();
    expect(planNotifications([incident(1)], { ...on, now: t0 }, limiter).show).toHaveLength(1);
    const grown = incident(1, { sentence: 'Port 5555/tcp started listening: /tmp/y (pid 4000), never seen before' });
    expect(planNotifications([grown], { ...on, now: t0 + 1 }, limiter).show).toEqual([grown]);
    expect(planNotifications([grown], { ...on, now: t0 + 2 }, limiter).show).toEqual([]);
  });

  it('stays at most maxPerHour in any hour, counting the rest', () => {
    const limiter = new NotificationLimiter();
    const first = planNotifications([1, 2, 3, 4, 5, 6].map((id) => incident(id)), { ...on, now: t0 }, limiter);
    expect(first.show.map((i) => i.id)).toEqual([1, 2, 3, 4]);
    expect(first.silenced).toEqual({ count: 2, reason: 'rate limit' });
    // Still within the hour of the first four.
    expect(planNotifications([incident(7)], { ...on, now: t0 + HOUR - 1 }, limiter).show).toEqual([]);
    // An hour later, room again.
    expect(planNotifications([incident(8)], { ...on, now: t0 + HOUR }, limiter).show.map((i) => i.id)).toEqual([8]);
  });

  it('is silent while snoozed or turned off, and does not announce those later', () => {
    const limiter = new NotificationLimiter();
    expect(planNotifications([incident(1)], { ...on, snoozedUntil: t0 + HOUR, now: t0 }, limiter)).toEqual({ show: [], silenced: { count: 1, reason: 'snoozed' } });
    expect(planNotifications([incident(2)], { ...on, enabled: false, now: t0 }, limiter)).toEqual({ show: [], silenced: { count: 1, reason: 'disabled' } });
    // A snooze that ended applies no more; the silenced incidents stay silent.
    const after = planNotifications([incident(1), incident(3)], { ...on, snoozedUntil: t0, now: t0 + 1 }, limiter);
    expect(after.show.map((i) => i.id)).toEqual([3]);
  });
});

describe('NotificationLimiter', () => {
  it('slides its window one notification at a time', () => {
    const limiter = new NotificationLimiter();
    expect(limiter.take(0, 2)).toBe(true);
    expect(limiter.take(10 * 60_000, 2)).toBe(true);
    expect(limiter.take(20 * 60_000, 2)).toBe(false);
    expect(limiter.take(HOUR, 2)).toBe(true);
    expect(limiter.take(HOUR + 1, 2)).toBe(false);
  });

  it('remembers a bounded number of ids', () => {
    const limiter = new NotificationLimiter();
    for (let id = 1; id <= 1001; id++) expect(limiter.firstTime(id)).toBe(true);
    expect(limiter.firstTime(1001)).toBe(false);
    // The oldest id was forgotten to keep the memory bounded.
    expect(limiter.firstTime(1)).toBe(true);
  });
});
