import type { Status } from './contract';

/**
 * What the first day says, in one place for the window and the tray: how long until the model
 * has seen enough rounds to alert. A round stands for one round length of the machine's life, so
 * the rounds still needed times the round length is the time left (detection takes rounds in
 * once an hour, so this is an estimate, said as "about").
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The usual round length when no monitor runs to say its own. */
export const USUAL_ROUND_SECONDS = 60;

/** Milliseconds until alerts start, or null when the model is ready (alerts are on). */
export function learningLeftMs(model: Status['model'], roundSeconds: number | undefined): number | null {
  if (model.state === 'ready') return null;
  const left = Math.max(0, model.roundsNeeded - model.roundsSeen);
  return left * (roundSeconds ?? USUAL_ROUND_SECONDS) * 1000;
}

/** "about 5 hours", "about 1 hour", "about 20 minutes", "a few minutes". */
export function aboutDuration(ms: number): string {
  if (ms >= 90 * MINUTE) {
    const hours = Math.round(ms / HOUR);
    return `about ${hours} hours`;
  }
  if (ms >= 45 * MINUTE) return 'about 1 hour';
  const minutes = Math.round(ms / MINUTE);
  return minutes >= 5 ? `about ${minutes} minutes` : 'a few minutes';
}

/**
 * "Portent is learning what is normal on this machine; alerts start in about 5 hours." Null
 * when alerts are on.
 */
export function learningSentence(status: Pick<Status, 'model' | 'roundSeconds'>): string | null {
  const left = learningLeftMs(status.model, status.roundSeconds);
  if (left === null) return null;
  if (left === 0) return 'Portent is learning what is normal on this machine; alerts start after the next detection.';
  return `Portent is learning what is normal on this machine; alerts start in ${aboutDuration(left)}.`;
}
