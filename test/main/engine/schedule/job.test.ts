import cron from 'node-cron';
import { describe, expect, it } from 'vitest';
import { createLogger, type LogFields } from '../../../../src/main/engine/log';
import { Job } from '../../../../src/main/engine/schedule/job';
import { periodSchedule, roundSchedule } from '../../../../src/main/engine/schedule/scheduler';

function recordingLogger() {
  const lines: LogFields[] = [];
  return { lines, log: createLogger((l) => lines.push(JSON.parse(l) as LogFields), 'debug') };
}

describe('Job', () => {
  it('never overlaps itself: a second run while one is going is refused and logged', async () => {
    const { lines, log } = recordingLogger();
    let release!: () => void;
    let runs = 0;
    const job = new Job('collect', async () => {
      runs += 1;
      if (runs === 1) await new Promise<void>((r) => (release = r));
      return runs;
    }, log);
    const first = job.run('schedule');
    expect(first).not.toBeNull();
    expect(job.busy).toBe(true);
    expect(job.run('schedule')).toBeNull();
    expect(job.run('manual')).toBeNull();
    release();
    await expect(first).resolves.toBe(1);
    expect(job.busy).toBe(false);
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual(['collect still running; tick skipped', 'collect still running; request refused']);
    await expect(job.run('manual')).resolves.toBe(2);
  });

  it('logs a failure, hands it to the caller and can run again', async () => {
    const { lines, log } = recordingLogger();
    let fail = true;
    const job = new Job('detect', async () => {
      if (fail) throw new Error('model file is corrupt');
      return 'ok';
    }, log);
    await expect(job.run('schedule')).rejects.toThrow('model file is corrupt');
    expect(lines.find((l) => l.level === 'error')).toMatchObject({ msg: 'detect failed', error: 'model file is corrupt' });
    fail = false;
    await expect(job.run('manual')).resolves.toBe('ok');
  });

  it('idle() waits for the run in progress', async () => {
    const { log } = recordingLogger();
    let done = false;
    const job = new Job('cleanup', async () => {
      await new Promise((r) => setTimeout(r, 50));
      done = true;
    }, log);
    void job.run('schedule');
    await job.idle();
    expect(done).toBe(true);
  });
});

describe('roundSchedule', () => {
  it('aligns real rounds to the start of each minute and short ones to the clock', () => {
    expect(roundSchedule(60)).toBe('0 * * * * *');
    expect(roundSchedule(1)).toBe('* * * * * *');
    expect(roundSchedule(15)).toBe('*/15 * * * * *');
  });

  it('refuses lengths that would drift against the minute', () => {
    for (const bad of [0, 7, 45, 61, 1.5, -5]) expect(() => roundSchedule(bad)).toThrow(/whole divisor of 60/);
  });
});

describe('periodSchedule', () => {
  it('runs detection hourly half a minute past the hour, or on compressed periods', () => {
    expect(periodSchedule(3600, 30)).toBe('30 0 * * * *');
    expect(periodSchedule(600, 30)).toBe('30 */10 * * * *');
    expect(periodSchedule(3)).toBe('*/3 * * * * *');
  });

  it('runs periods of whole hours from midnight', () => {
    expect(periodSchedule(7200, 30)).toBe('30 0 */2 * * *');
    expect(periodSchedule(86_400, 30)).toBe('30 0 0 * * *');
  });

  it('fires, as node-cron reads the expressions, at those local times', async () => {
    const nextRuns = async (expression: string): Promise<Date[]> => {
      const task = cron.createTask(expression, () => undefined);
      const runs = task.getNextRuns(4);
      await task.destroy();
      return runs;
    };
    const clock = (d: Date) => [d.getHours(), d.getMinutes(), d.getSeconds()];
    for (const d of await nextRuns(roundSchedule(60))) expect(d.getSeconds()).toBe(0);
    for (const d of await nextRuns(roundSchedule(15))) expect(d.getSeconds() % 15).toBe(0);
    for (const d of await nextRuns(periodSchedule(3600, 30))) expect(clock(d).slice(1)).toEqual([0, 30]);
    for (const d of await nextRuns(periodSchedule(7200, 30))) expect([clock(d)[0]! % 2, ...clock(d).slice(1)]).toEqual([0, 0, 30]);
    const daily = await nextRuns(periodSchedule(86_400, 30));
    for (const d of daily) expect(clock(d)).toEqual([0, 0, 30]);
    expect(daily[1]!.getDate()).not.toBe(daily[0]!.getDate());
  });

  it('refuses periods that do not divide a minute, an hour or a day', () => {
    for (const bad of [7, 90, 5 * 3600, 2 * 86_400, 0]) expect(() => periodSchedule(bad)).toThrow(/divide a minute, an hour or a day/);
  });
});
