import type { MenuItemConstructorOptions } from 'electron';
import type { DetectNowResult, Status } from '../../shared/contract';
import { formatClock, isSnoozed, plural, type TrayState } from './trayState';

/**
 * The tray menu as plain data: labels, whether each item is enabled or checked, and which
 * action it triggers. Built from the engine's status and the shell's own state, so what the
 * menu offers is tested without Electron; `toMenuTemplate` only translates it.
 */

export type TrayAction = 'open' | 'detect' | 'pause' | 'resume' | 'snooze-hour' | 'snooze-tomorrow' | 'snooze-end' | 'start-at-login' | 'quit';

export type MenuItemModel =
  | { type: 'separator' }
  | { type: 'normal'; label: string; enabled: boolean; action?: TrayAction }
  | { type: 'checkbox'; label: string; enabled: boolean; checked: boolean; action: TrayAction }
  | { type: 'submenu'; label: string; enabled: boolean; items: MenuItemModel[] };

/** The tray's own "Detect now": idle, running, or the outcome of the last run it started. */
export type DetectProgress =
  | { phase: 'idle' }
  | { phase: 'running' }
  | { phase: 'done'; at: number; result: DetectNowResult }
  | { phase: 'failed'; at: number; error: string };

export interface TrayMenuInput {
  status: Status;
  tray: TrayState;
  detect: DetectProgress;
  /** Null where Portent cannot start at login on this system. */
  startAtLogin: boolean | null;
  now: number;
}

/** The hour a "until tomorrow" snooze ends, local time. */
export const SNOOZE_TOMORROW_HOUR = 8;
const HOUR_MS = 3_600_000;

export type SnoozeChoice = 'hour' | 'tomorrow';

export function snoozeEnd(choice: SnoozeChoice, now: number): number {
  if (choice === 'hour') return now + HOUR_MS;
  const d = new Date(now);
  // Date handles month and year ends, and the local clock's daylight-saving shifts.
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1, SNOOZE_TOMORROW_HOUR, 0, 0, 0).getTime();
}

/** One line on the outcome of a detection the tray started. */
export function detectOutcomeText(progress: DetectProgress): string | null {
  if (progress.phase === 'idle' || progress.phase === 'running') return null;
  const at = formatClock(progress.at);
  if (progress.phase === 'failed') return `Detection failed at ${at}: ${progress.error}`;
  const r = progress.result;
  if (!r.started) return `Detection did not start: ${r.reason}`;
  if (r.incidents > 0) return `Checked at ${at}: ${plural(r.incidents, 'new incident')}`;
  if (r.learning) return `Checked at ${at}: still learning what is normal`;
  if (r.roundsScored === 0) return `Checked at ${at}: no new rounds to check`;
  return `Checked at ${at}: nothing unusual in ${plural(r.roundsScored, 'round')}`;
}

export function trayMenu(input: TrayMenuInput): MenuItemModel[] {
  const { status, tray, detect, startAtLogin, now } = input;
  const detecting = detect.phase === 'running' || status.detection.running;
  const items: MenuItemModel[] = [
    { type: 'normal', label: tray.headline, enabled: false },
    { type: 'separator' },
    { type: 'normal', label: tray.unseen > 0 ? `Open Portent (${plural(tray.unseen, 'new incident')})` : 'Open Portent', enabled: true, action: 'open' },
    { type: 'normal', label: detecting ? 'Detecting…' : 'Detect now', enabled: !detecting && status.monitoring, action: 'detect' },
  ];
  const outcome = detecting ? null : detectOutcomeText(detect);
  if (outcome) items.push({ type: 'normal', label: outcome, enabled: false });
  items.push(
    { type: 'separator' },
    status.paused
      ? { type: 'normal', label: 'Resume monitoring', enabled: status.monitoring, action: 'resume' }
      : { type: 'normal', label: 'Pause monitoring', enabled: status.monitoring, action: 'pause' },
    snoozeMenu(status, now),
    { type: 'separator' },
  );
  if (startAtLogin !== null) items.push({ type: 'checkbox', label: 'Start at login', enabled: true, checked: startAtLogin, action: 'start-at-login' });
  items.push({ type: 'normal', label: 'Quit Portent', enabled: true, action: 'quit' });
  return items;
}

function snoozeMenu(status: Status, now: number): MenuItemModel {
  const tomorrow = `Until tomorrow ${formatClock(snoozeEnd('tomorrow', now))}`;
  const choices: MenuItemModel[] = [
    { type: 'normal', label: 'For 1 hour', enabled: true, action: 'snooze-hour' },
    { type: 'normal', label: tomorrow, enabled: true, action: 'snooze-tomorrow' },
  ];
  if (isSnoozed(status, now) && status.snoozedUntil !== null) {
    return {
      type: 'submenu',
      label: `Alerts snoozed until ${formatClock(status.snoozedUntil)}`,
      enabled: true,
      items: [{ type: 'normal', label: 'Resume alerts now', enabled: true, action: 'snooze-end' }, { type: 'separator' }, ...choices],
    };
  }
  return { type: 'submenu', label: 'Snooze alerts', enabled: true, items: choices };
}

/** Electron's menu template for the model; each item with an action calls `run` with it. */
export function toMenuTemplate(items: MenuItemModel[], run: (action: TrayAction) => void): MenuItemConstructorOptions[] {
  return items.map((item): MenuItemConstructorOptions => {
    switch (item.type) {
      case 'separator':
        return { type: 'separator' };
      case 'submenu':
        return { type: 'submenu', label: item.label, enabled: item.enabled, submenu: toMenuTemplate(item.items, run) };
      case 'checkbox': {
        const action = item.action;
        return { type: 'checkbox', label: item.label, enabled: item.enabled, checked: item.checked, click: () => run(action) };
      }
      case 'normal': {
        const action = item.action;
        return { type: 'normal', label: item.label, enabled: item.enabled, ...(action ? { click: () => run(action) } : {}) };
      }
    }
  });
}
