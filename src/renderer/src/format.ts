/** How numbers, times and states read in the window. Pure: `now` is passed in where it matters. */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A date and time in the user's locale, to the minute. */
export function formatDateTime(t: number): string {
  return new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A clock time in the user's locale, to the second (rounds can be seconds apart). */
export function formatClock(t: number): string {
  return new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** "850 ms", "12 s", "4 min 5 s", "3 h 20 min", "2 d 4 h": two units at most. */
export function formatDuration(ms: number): string {
  const abs = Math.max(0, Math.round(ms));
  if (abs < SECOND) return `${abs} ms`;
  if (abs < MINUTE) return `${Math.round(abs / SECOND)} s`;
  const units: [number, string][] = [
    [DAY, 'd'],
    [HOUR, 'h'],
    [MINUTE, 'min'],
    [SECOND, 's'],
  ];
  const i = units.findIndex(([size]) => abs >= size);
  const [big, bigName] = units[i]!;
  const [small, smallName] = units[i + 1]!;
  const whole = Math.floor(abs / big);
  const rest = Math.floor((abs - whole * big) / small);
  return rest > 0 ? `${whole} ${bigName} ${rest} ${smallName}` : `${whole} ${bigName}`;
}

/** "just now", "5 min ago", "in 20 min", "3 d ago". */
export function formatRelative(t: number, now: number): string {
  const diff = now - t;
  if (Math.abs(diff) < 10 * SECOND) return 'just now';
  const text = formatDuration(Math.abs(diff)).split(' ').slice(0, 2).join(' ');
  return diff > 0 ? `${text} ago` : `in ${text}`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = n / 1024;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[i]}`;
}

/** A share 0..1 as a whole percentage; tiny but non-zero shares read "<1%". */
export function formatPercent(share: number): string {
  if (share > 0 && share < 0.005) return '<1%';
  return `${Math.round(share * 100)}%`;
}

/** Scores and thresholds: three significant digits. */
export function formatScore(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '–';
  return Number(x.toPrecision(3)).toString();
}

/**
 * A peak score against its threshold in words: how far from normal the most unusual round was.
 * `unit`: what was scored, a round (the port model) or a window of ten rounds of a program's
 * traffic (the traffic model).
 */
export function scoreComparison(peak: number, threshold: number, unit: 'round' | 'window' = 'round'): string {
  const base = `Its most unusual ${unit === 'round' ? 'round' : 'window of traffic'} scored ${formatScore(peak)} against a threshold of ${formatScore(threshold)}`;
  if (!(threshold > 0) || !Number.isFinite(peak)) return `${base}.`;
  const times = peak / threshold;
  return `${base}: ${times >= 10 ? Math.round(times) : times.toFixed(1)} times the highest score the model still takes for normal.`;
}

export function portLabel(proto: string, port: number | null): string {
  return port === null ? proto : `${port}/${proto}`;
}

export function directionLabel(direction: 'appeared' | 'vanished' | 'unusual-hour' | 'new-owner'): string {
  return direction === 'unusual-hour' ? 'unusual hour' : direction === 'new-owner' ? 'new owner' : direction;
}

/** The message of anything thrown, without a stack: what the user sees in place of a view. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  return 'Something went wrong.';
}

/** "1 incident", "3 incidents". */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
