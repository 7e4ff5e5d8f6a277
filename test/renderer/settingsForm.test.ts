import { describe, expect, it } from 'vitest';
import { SETTING_KEYS, checkSetting } from '../../src/shared/settings';
import { groupSettings, inputKind, labelOf, textOf, valueFromInput } from '../../src/renderer/src/settingsForm';

describe('settings form', () => {
  it('groups every setting by prefix, each exactly once', () => {
    const groups = groupSettings();
    expect(groups.map((g) => g.prefix)).toEqual(['capture', 'retention', 'schedule', 'detection', 'notifications', 'syslog', 'otlp', 'metrics']);
    expect(groups.flatMap((g) => g.keys).sort()).toEqual([...SETTING_KEYS].sort());
  });

  it('picks an input of the right type for each setting', () => {
    expect(inputKind('capture.enabled')).toEqual({ kind: 'switch' });
    expect(inputKind('retention.packetsDays')).toEqual({ kind: 'number', step: 1 });
    expect(inputKind('detection.sensitivity')).toEqual({ kind: 'choice', options: ['low', 'normal', 'high'] });
    expect(inputKind('schedule.detectEveryMinutes')).toMatchObject({ kind: 'choice' });
    expect(inputKind('capture.filter')).toEqual({ kind: 'text' });
  });

  it('turns input text into values the shared check accepts or explains', () => {
    expect(checkSetting('retention.packetsDays', valueFromInput('retention.packetsDays', '14'))).toEqual({ ok: true, value: 14 });
    const bad = checkSetting('retention.packetsDays', valueFromInput('retention.packetsDays', 'lots'));
    expect(bad).toMatchObject({ ok: false, error: expect.stringMatching(/whole number of days/) });
    expect(checkSetting('schedule.detectEveryMinutes', valueFromInput('schedule.detectEveryMinutes', '30'))).toEqual({ ok: true, value: 30 });
    expect(textOf(true)).toBe('true');
    expect(textOf(undefined)).toBe('');
  });

  it('labels a key by its last part', () => {
    expect(labelOf('detection.alertsPerDay')).toBe('alerts per day');
    expect(labelOf('capture.enabled')).toBe('enabled');
  });
});
