import { describe, expect, it } from 'vitest';
import { SETTING_KEYS, checkSetting } from '../../src/shared/settings';
import { defaultText, groupSettings, helpOf, inputKind, interfaceOptions, labelOf, minutesLabel, textOf, unitOf, valueFromInput } from '../../src/renderer/src/settingsForm';

describe('settings form', () => {
  it('groups every setting under a heading a user reads, each exactly once', () => {
    const groups = groupSettings();
    expect(groups.map((g) => g.title)).toEqual(['Alerts', 'Capture', 'History and storage', 'Detection', 'Daily report', 'Stopping a process', 'Sending incidents elsewhere']);
    expect(groups.flatMap((g) => g.keys).sort()).toEqual([...SETTING_KEYS].sort());
    const of = (title: string) => groups.find((g) => g.title === title)?.keys;
    expect(of('Alerts')).toEqual(['notifications.enabled', 'notifications.maxPerHour', 'detection.sensitivity', 'detection.alertsPerDay']);
    expect(of('History and storage')).toEqual(['retention.roundPortsDays', 'retention.flowsDays', 'retention.packetsDays', 'retention.maxDatabaseMb', 'retention.reportsDays', 'schedule.cleanupAt']);
    expect(of('Daily report')).toEqual([
      'report.enabled', 'report.dailyAt', 'report.smtp.host', 'report.smtp.port', 'report.smtp.tls', 'report.smtp.user', 'report.smtp.password', 'report.smtp.from', 'report.smtp.to',
    ]);
    expect(of('Detection')).toEqual(['detection.learningHours', 'schedule.detectEveryMinutes']);
    expect(of('Stopping a process')).toEqual(['actions.stopGraceSeconds', 'actions.rootMayStopOthers']);
  });

  it('labels settings in words, with their units, never by their keys', () => {
    expect(`${labelOf('retention.roundPortsDays')} 30 ${unitOf('retention.roundPortsDays')}`).toBe('Keep port history for 30 days');
    expect(unitOf('retention.maxDatabaseMb')).toBe('MB');
    expect(unitOf('detection.learningHours')).toBe('hours');
    expect(unitOf('capture.enabled')).toBeNull();
    for (const key of SETTING_KEYS) {
      expect(labelOf(key), key).not.toContain(key);
      expect(labelOf(key), key).toMatch(/^[A-Z]/);
      expect(helpOf(key).length, key).toBeGreaterThan(15);
      // Every number has a unit (a port number has none), except the sensitivity-like choices that are words already.
      if (inputKind(key).kind === 'number' && key !== 'report.smtp.port') expect(unitOf(key), key).not.toBeNull();
    }
  });

  it('edits the daily report\'s settings as a time, a choice in words and a password', () => {
    expect(inputKind('report.dailyAt')).toEqual({ kind: 'time' });
    expect(inputKind('report.smtp.password')).toEqual({ kind: 'secret' });
    expect(inputKind('report.smtp.tls')).toEqual({
      kind: 'choice',
      options: [
        { value: 'starttls', label: 'STARTTLS: upgrade the connection, or do not send' },
        { value: 'tls', label: 'TLS from the start' },
        { value: 'none', label: 'None: only for a server on this computer' },
      ],
    });
    expect(inputKind('report.enabled')).toEqual({ kind: 'switch' });
    expect(`${labelOf('retention.reportsDays')} 90 ${unitOf('retention.reportsDays')}`).toBe('Keep daily reports for 90 days');
  });

  it('picks a fitting input: toggle, number, choice, time of day, interface, text', () => {
    expect(inputKind('capture.enabled')).toEqual({ kind: 'switch' });
    expect(inputKind('retention.packetsDays')).toEqual({ kind: 'number', step: 1 });
    expect(inputKind('detection.alertsPerDay')).toEqual({ kind: 'number', step: 0.1 });
    expect(inputKind('detection.sensitivity')).toEqual({
      kind: 'choice',
      options: [
        { value: 'low', label: 'Low: fewer alerts' },
        { value: 'normal', label: 'Normal' },
        { value: 'high', label: 'High: more alerts' },
      ],
    });
    const every = inputKind('schedule.detectEveryMinutes');
    expect(every.kind === 'choice' && every.options.slice(0, 1).concat(every.options.slice(-2))).toEqual([
      { value: '10', label: '10 minutes' },
      { value: '720', label: '12 hours' },
      { value: '1440', label: '1 day' },
    ]);
    expect(inputKind('schedule.cleanupAt')).toEqual({ kind: 'time' });
    expect(inputKind('capture.interface')).toEqual({ kind: 'interface' });
    expect(inputKind('capture.filter')).toEqual({ kind: 'text' });
    expect(minutesLabel(60)).toBe('1 hour');
    expect(minutesLabel(180)).toBe('3 hours');
  });

  it('says defaults in words with their unit', () => {
    expect(defaultText('retention.roundPortsDays')).toBe('30 days');
    expect(defaultText('capture.enabled')).toBe('on');
    expect(defaultText('capture.filter')).toBe('empty');
    expect(defaultText('schedule.detectEveryMinutes')).toBe('1 hour');
    expect(defaultText('capture.interface')).toBe("the default route's interface");
  });

  it('offers the default route, then the interfaces the engine reports, and marks a stored one the machine lacks', () => {
    const list = {
      names: [
        { name: 'eth0', addresses: ['192.0.2.5', 'fe80::1'], loopback: false },
        { name: 'lo', addresses: ['127.0.0.1'], loopback: true },
        { name: 'any', addresses: [], loopback: false },
      ],
      default: 'eth0',
    };
    expect(interfaceOptions('', list)).toEqual([
      { value: '', label: "Default: the default route's (eth0)", missing: false },
      { value: 'eth0', label: 'eth0 (192.0.2.5, fe80::1)', missing: false },
      { value: 'lo', label: 'lo (this computer only)', missing: false },
      { value: 'any', label: 'any', missing: false },
    ]);
    expect(interfaceOptions('wlan7', list).at(-1)).toEqual({ value: 'wlan7', label: 'wlan7 (not on this machine)', missing: true });
    expect(interfaceOptions('lo', list)).toHaveLength(4);
  });

  it('turns input text into values the shared check accepts or explains', () => {
    expect(checkSetting('retention.packetsDays', valueFromInput('retention.packetsDays', '14'))).toEqual({ ok: true, value: 14 });
    const bad = checkSetting('retention.packetsDays', valueFromInput('retention.packetsDays', 'lots'));
    expect(bad).toMatchObject({ ok: false, error: expect.stringMatching(/whole number of days/) });
    expect(checkSetting('schedule.detectEveryMinutes', valueFromInput('schedule.detectEveryMinutes', '30'))).toEqual({ ok: true, value: 30 });
    // What a time input gives is what the schema wants.
    expect(checkSetting('schedule.cleanupAt', valueFromInput('schedule.cleanupAt', '04:15'))).toEqual({ ok: true, value: '04:15' });
    expect(textOf(true)).toBe('true');
    expect(textOf(undefined)).toBe('');
  });
});
