import { describe, expect, it } from 'vitest';
import { IncidentAlerts } from '../../../src/main/desktop/alerts';
import type { NotificationText } from '../../../src/main/desktop/notifications';
import { silentLogger } from '../../../src/main/engine/log';
import type { SettingsView } from '../../../src/shared/contract';
import { statusWith } from './support/status';

const now = 1_800_000_000_000;
const incident = (id: number) => ({ id, status: 'new' as const, startedAt: now - 60_000, sentence: `Port 4444/tcp started listening: /tmp/x (pid ${id}), never seen before` });

function setup(values: Record<string, unknown> = {}, snoozedUntil: number | null = null) {
  const shown: { text: NotificationText; click: () => void }[] = [];
  const opened: number[] = [];
  const settings: SettingsView = { values, changed: Object.keys(values) };
  const alerts = new IncidentAlerts({
    api: { getSettings: () => settings, getStatus: () => statusWith({ snoozedUntil }) },
    show: (text, click) => shown.push({ text, click }),
    openIncident: (id) => opened.push(id),
    log: silentLogger,
    now: () => now,
  });
  return { alerts, shown, opened };
}

describe('IncidentAlerts', () => {
  it('shows one notification per new incident; a click opens that incident', async () => {
    const { alerts, shown, opened } = setup();
    await alerts.announce([incident(11), incident(12)]);
    expect(shown.map((s) => s.text.body)).toEqual([incident(11).sentence, incident(12).sentence]);
    shown[1]?.click();
    expect(opened).toEqual([12]);
  });

  it('follows the settings and the snooze', async () => {
    const off = setup({ 'notifications.enabled': false });
    await off.alerts.announce([incident(1)]);
    expect(off.shown).toEqual([]);
    const snoozed = setup({}, now + 60_000);
    await snoozed.alerts.announce([incident(1)]);
    expect(snoozed.shown).toEqual([]);
    const capped = setup({ 'notifications.maxPerHour': 1 });
    await capped.alerts.announce([incident(1), incident(2)]);
    expect(capped.shown).toHaveLength(1);
  });
});
