import { describe, expect, it } from 'vitest';
import { detectOutcomeText, snoozeEnd, toMenuTemplate, trayMenu, type DetectProgress, type MenuItemModel, type TrayAction } from '../../../src/main/desktop/trayMenu';
import { trayStateOf } from '../../../src/main/desktop/trayState';
import type { Status } from '../../../src/shared/contract';
import { statusWith } from './support/status';

const now = new Date(2026, 2, 10, 14, 5).getTime();

function menu(status: Status, detect: DetectProgress = { phase: 'idle' }, startAtLogin: boolean | null = false): MenuItemModel[] {
  return trayMenu({ status, tray: trayStateOf(status, now), detect, startAtLogin, now });
}

/** The menu as lines: label, then [action], (off) when disabled, [x]/[ ] for checkboxes. */
function lines(items: MenuItemModel[], indent = ''): string[] {
  return items.flatMap((item) => {
    if (item.type === 'separator') return [`${indent}---`];
    const off = item.enabled ? '' : ' (off)';
    if (item.type === 'submenu') return [`${indent}${item.label} >${off}`, ...lines(item.items, indent + '  ')];
    if (item.type === 'checkbox') return [`${indent}[${item.checked ? 'x' : ' '}] ${item.label} [${item.action}]${off}`];
    return [`${indent}${item.label}${item.action ? ` [${item.action}]` : ''}${off}`];
  });
}

describe('tray menu', () => {
  it('offers open, detect, pause, snooze, start at login and quit', () => {
    expect(lines(menu(statusWith()))).toEqual([
      'Monitoring; all normal (off)',
      '---',
      'Open Portent [open]',
      'Detect now [detect]',
      '---',
      'Pause monitoring [pause]',
      'Snooze alerts >',
      '  For 1 hour [snooze-hour]',
      '  Until tomorrow 08:00 [snooze-tomorrow]',
      '---',
      '[ ] Start at login [start-at-login]',
      'Quit Portent [quit]',
    ]);
  });

  it('names unseen incidents on Open, and offers Resume when paused', () => {
    const l = lines(menu(statusWith({ paused: true, incidents: { today: 2, week: 2, unseen: 2 } }), { phase: 'idle' }, true));
    expect(l).toContain('Open Portent (2 new incidents) [open]');
    expect(l).toContain('Resume monitoring [resume]');
    expect(l).not.toContain('Pause monitoring [pause]');
    expect(l).toContain('[x] Start at login [start-at-login]');
  });

  it('shows detection progress, then its result', () => {
    expect(lines(menu(statusWith(), { phase: 'running' }))).toContain('Detecting… [detect] (off)');
    // A scheduled detection (or one from the window) also disables the item.
    expect(lines(menu(statusWith({ detection: { running: true, lastRunAt: null, lastRunStatus: 'running' } })))).toContain('Detecting… [detect] (off)');
    const done = lines(menu(statusWith(), { phase: 'done', at: now, result: { started: true, roundsScored: 60, incidents: 0, learning: false, backend: 'wasm' } }));
    expect(done.slice(3, 5)).toEqual(['Detect now [detect]', 'Checked at 14:05: nothing unusual in 60 rounds (off)']);
  });

  it('words every detection outcome', () => {
    const done = (result: Extract<DetectProgress, { phase: 'done' }>['result']): string | null => detectOutcomeText({ phase: 'done', at: now, result });
    expect(done({ started: true, roundsScored: 60, incidents: 2, learning: false, backend: 'wasm' })).toBe('Checked at 14:05: 2 new incidents');
    expect(done({ started: true, roundsScored: 60, incidents: 0, learning: true, backend: 'wasm' })).toBe('Checked at 14:05: still learning what is normal');
    expect(done({ started: true, roundsScored: 0, incidents: 0, learning: false, backend: 'wasm' })).toBe('Checked at 14:05: no new rounds to check');
    expect(done({ started: false, reason: 'a detection is already running' })).toBe('Detection did not start: a detection is already running');
    expect(detectOutcomeText({ phase: 'failed', at: now, error: 'worker crashed' })).toBe('Detection failed at 14:05: worker crashed');
    expect(detectOutcomeText({ phase: 'idle' })).toBeNull();
  });

  it('shows a snooze in force and offers to end it', () => {
    const l = lines(menu(statusWith({ snoozedUntil: now + 3_600_000 })));
    expect(l).toContain('Alerts snoozed until 15:05 >');
    expect(l).toContain('  Resume alerts now [snooze-end]');
  });

  it('disables actions that need a running monitor when there is none', () => {
    const l = lines(menu(statusWith({ monitoring: false })));
    expect(l).toContain('Detect now [detect] (off)');
    expect(l).toContain('Pause monitoring [pause] (off)');
    expect(l).toContain('Quit Portent [quit]');
  });

  it('leaves out Start at login where it is not supported', () => {
    expect(lines(menu(statusWith(), { phase: 'idle' }, null)).some((line) => line.includes('Start at login'))).toBe(false);
  });
});

describe('snooze ends', () => {
  it('in an hour, or tomorrow at 08:00 local time', () => {
    expect(snoozeEnd('hour', now)).toBe(now + 3_600_000);
    expect(snoozeEnd('tomorrow', now)).toBe(new Date(2026, 2, 11, 8, 0).getTime());
    // Just after midnight, "tomorrow" is still the next calendar day.
    expect(snoozeEnd('tomorrow', new Date(2026, 11, 31, 0, 30).getTime())).toBe(new Date(2027, 0, 1, 8, 0).getTime());
  });
});

describe('Electron menu template', () => {
  it('translates the model and routes clicks to actions', () => {
    const ran: TrayAction[] = [];
    const template = toMenuTemplate(menu(statusWith({ snoozedUntil: now + 1000 }), { phase: 'idle' }, true), (a) => ran.push(a));
    expect(template[0]).toEqual({ type: 'normal', label: 'Monitoring; all normal', enabled: false });
    expect(template[1]).toEqual({ type: 'separator' });
    const click = (item: (typeof template)[number] | undefined): void => (item?.click as unknown as () => void)();
    click(template.find((i) => i.label === 'Open Portent'));
    const snooze = template.find((i) => i.type === 'submenu');
    click((snooze?.submenu as typeof template).find((i) => i.label === 'Resume alerts now'));
    const login = template.find((i) => i.type === 'checkbox');
    expect(login?.checked).toBe(true);
    click(login);
    expect(ran).toEqual(['open', 'snooze-end', 'start-at-login']);
  });
});
