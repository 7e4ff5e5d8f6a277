import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log';
import type { Job } from './job';

/**
 * The cron expression for one round every `seconds` seconds, aligned to the clock: 60 means at
 * second 0 of every minute. Shorter rounds (for tests and demos) must divide a minute evenly so
 * that rounds stay aligned.
 */
export function roundSchedule(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 60 || 60 % seconds !== 0) {
    throw new RangeError(`round length must be 60 seconds or a whole divisor of 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30); got ${seconds}`);
  }
  return periodSchedule(seconds);
}

/**
 * The cron expression for a job every `seconds` seconds (detection: every N rounds), starting
 * `offsetSeconds` into each period so that it follows the round written at the same tick.
 * Hourly is `30 0 * * * *`: half a minute past each hour; periods of whole hours that divide a
 * day start at midnight.
 */
export function periodSchedule(seconds: number, offsetSeconds = 0): string {
  if (Number.isInteger(seconds) && seconds >= 1 && seconds < 60 && 60 % seconds === 0) {
    return seconds === 1 ? '* * * * * *' : `*/${seconds} * * * * *`;
  }
  const minutes = seconds / 60;
  if (Number.isInteger(minutes) && minutes >= 1 && minutes <= 60 && 60 % minutes === 0) {
    const second = Math.min(59, Math.max(0, Math.floor(offsetSeconds)));
    if (minutes === 60) return `${second} 0 * * * *`;
    return minutes === 1 ? `${second} * * * * *` : `${second} */${minutes} * * * *`;
  }
  const hours = seconds / 3600;
  if (Number.isInteger(hours) && hours >= 1 && hours <= 24 && 24 % hours === 0) {
    const second = Math.min(59, Math.max(0, Math.floor(offsetSeconds)));
    return hours === 24 ? `${second} 0 0 * * *` : `${second} 0 */${hours} * * *`;
  }
  throw new RangeError(`a job period must divide a minute, an hour or a day evenly; got ${seconds} seconds`);
}

/** Runs jobs on cron schedules. Ticks that find their job busy are skipped by the job itself. */
export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];

  constructor(private readonly log: Logger) {}

  add(expression: string, job: Job<unknown>): void {
    if (!cron.validate(expression)) throw new RangeError(`invalid schedule '${expression}' for ${job.name}`);
    const task = cron.schedule(
      expression,
      () => {
        // The job logs its own failures; a rejected tick must not become an unhandled rejection.
        job.run('schedule')?.catch(() => undefined);
      },
      { name: job.name, suppressMissedWarning: true },
    );
    this.tasks.push(task);
    this.log.debug('job scheduled', { job: job.name, schedule: expression });
  }

  async stop(): Promise<void> {
    await Promise.all(this.tasks.splice(0).map((t) => t.destroy()));
  }
}
