import type { Status } from '../../shared/contract';
import { learningSentence } from '../../shared/learning';

/**
 * What the tray shows, decided from the engine's status alone. An unseen incident outranks
 * everything (it is what the tray is for); a pause outranks an error because a paused monitor
 * is expected to look idle; an error outranks learning because it needs the user to act.
 */

export type TrayKind = 'normal' | 'learning' | 'incident' | 'paused' | 'error';

export interface TrayState {
  kind: TrayKind;
  /** Incidents the user has not looked at yet. */
  unseen: number;
  /** One line saying how things stand, for the menu's first line. */
  headline: string;
  tooltip: string;
}

/** Local time of day as HH:MM. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Why the monitor needs attention, or null when nothing is wrong. */
export function problemOf(status: Status): string | null {
  if (!status.monitoring) return 'Not monitoring';
  if (status.lastRound?.status === 'failed') return `Last round failed${status.lastRound.error ? `: ${status.lastRound.error}` : ''}`;
  const { capture } = status;
  if (capture.state === 'error') return sentence(capture.message ?? 'packet capture failed');
  // Off with a remedy means off for lack of privileges; off without one is the user's choice.
  if (capture.state === 'off' && capture.remedy.length > 0) return sentence(capture.message ?? 'packet capture is off: Portent lacks the permission');
  return null;
}

export function isSnoozed(status: Status, now: number): boolean {
  return status.snoozedUntil !== null && status.snoozedUntil > now;
}

export function trayStateOf(status: Status, now: number): TrayState {
  const unseen = status.incidents.unseen;
  const problem = problemOf(status);
  const learning = status.model.state !== 'ready';
  let kind: TrayKind;
  let headline: string;
  if (unseen > 0) {
    kind = 'incident';
    headline = plural(unseen, 'new incident');
  } else if (status.paused) {
    kind = 'paused';
    headline = 'Monitoring paused';
  } else if (problem !== null) {
    kind = 'error';
    headline = problem;
  } else if (learning) {
    kind = 'learning';
    headline = `Learning what is normal: ${Math.floor(status.model.progress * 100)}%`;
  } else {
    kind = 'normal';
    headline = 'Monitoring; all normal';
  }
  return { kind, unseen, headline, tooltip: tooltipOf(status, headline, problem, now) };
}

function tooltipOf(status: Status, headline: string, problem: string | null, now: number): string {
  const lines = [`Portent: ${headline}`];
  // A problem hidden behind a higher-ranked state is still worth a line.
  if (problem !== null && problem !== headline) lines.push(problem);
  // The first day explains itself: why there are no alerts yet, and for how much longer.
  const learning = learningSentence(status);
  if (learning !== null) lines.push(learning);
  const round = status.lastRound;
  if (!round) lines.push('No round yet');
  else if (round.status === 'ok') lines.push(`Last round ${formatClock(round.startedAt)}: ${plural(round.ports, 'port')} in use`);
  else if (round.status === 'running') lines.push(`Round running since ${formatClock(round.startedAt)}`);
  else lines.push(`Last round ${formatClock(round.startedAt)} failed`);
  if (status.detection.running) lines.push('Detecting…');
  if (isSnoozed(status, now) && status.snoozedUntil !== null) lines.push(`Alerts snoozed until ${formatClock(status.snoozedUntil)}`);
  return lines.join('\n');
}

/** Linux trays show no title, so the unseen count is drawn into the icon, up to "9+". */
export function linuxBadge(unseen: number): string {
  return unseen > 9 ? '9plus' : String(Math.max(1, unseen));
}

/**
 * The icon file in assets/tray/ for a state. macOS gets template images (the menu bar tints
 * them); the @2x variant beside each is picked up by Electron on its own.
 */
export function trayIconFile(state: Pick<TrayState, 'kind' | 'unseen'>, platform: NodeJS.Platform): string {
  if (platform === 'darwin') return `${state.kind}Template.png`;
  if (state.kind === 'incident') return `incident-${linuxBadge(state.unseen)}.png`;
  return `${state.kind}.png`;
}

/** Text beside the menu-bar icon on macOS: the unseen count, or nothing. */
export function trayTitle(state: Pick<TrayState, 'unseen'>): string {
  return state.unseen > 0 ? String(state.unseen) : '';
}
