import { describe, expect, it } from 'vitest';
import { checkSetting, defaultSettings, SETTING_KEYS, SETTINGS, settingFromText } from '../../src/shared/settings';

describe('the settings schema', () => {
  it('accepts every default', () => {
    for (const key of SETTING_KEYS) expect(checkSetting(key, SETTINGS[key].default), key).toEqual({ ok: true, value: SETTINGS[key].default });
    expect(defaultSettings()['retention.packetsDays']).toBe(7);
  });

  it('rejects out-of-range values with the setting name, the allowed range and what was given', () => {
    expect(checkSetting('retention.packetsDays', 0)).toEqual({ ok: false, error: 'retention.packetsDays must be a whole number of days from 1 to 3650; got 0' });
    expect(checkSetting('retention.packetsDays', 2.5)).toMatchObject({ ok: false, error: expect.stringContaining('whole number of days from 1 to 3650; got 2.5') });
    expect(checkSetting('retention.packetsDays', '7')).toMatchObject({ ok: false, error: expect.stringContaining('got "7"') });
    expect(checkSetting('retention.maxDatabaseMb', 10)).toMatchObject({ ok: false, error: expect.stringContaining('0 (no cap) or at least 50') });
    expect(checkSetting('retention.maxDatabaseMb', 0)).toEqual({ ok: true, value: 0 });
    expect(checkSetting('schedule.cleanupAt', '24:00')).toMatchObject({ ok: false, error: expect.stringContaining('HH:MM') });
    expect(checkSetting('schedule.cleanupAt', '04:05')).toEqual({ ok: true, value: '04:05' });
    expect(checkSetting('schedule.detectEveryMinutes', 7)).toMatchObject({ ok: false, error: expect.stringContaining('10, 15, 20') });
    expect(checkSetting('detection.sensitivity', 'paranoid')).toMatchObject({ ok: false, error: expect.stringContaining('low, normal or high') });
    expect(checkSetting('capture.enabled', 'yes')).toMatchObject({ ok: false, error: expect.stringContaining('true or false') });
  });

  it('refuses interface names that could smuggle anything but a name', () => {
    expect(checkSetting('capture.interface', 'eth0')).toEqual({ ok: true, value: 'eth0' });
    expect(checkSetting('capture.interface', '')).toEqual({ ok: true, value: '' });
    for (const bad of ['eth0; rm -rf /', '../x', 'a b', 'x'.repeat(65)]) expect(checkSetting('capture.interface', bad).ok, bad).toBe(false);
  });

  it('reads command-line text by the setting type', () => {
    expect(settingFromText('capture.enabled', 'false')).toBe(false);
    expect(settingFromText('capture.enabled', 'no')).toBe('no');
    expect(settingFromText('retention.packetsDays', '14')).toBe(14);
    expect(settingFromText('retention.packetsDays', '')).toBe('');
    expect(settingFromText('retention.packetsDays', 'ten')).toBe('ten');
    expect(settingFromText('capture.filter', 'udp port 53')).toBe('udp port 53');
  });
});
