import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Monitor } from '../../../../src/main/engine/monitor';
import { createLogger } from '../../../../src/main/engine/log';
import { createMetrics } from '../../../../src/main/engine/metrics';
import { formatStatus } from '../../../../src/main/headless/commands/status';
import { StatusSchema } from '../../../../src/shared/contract';
import { tempDir } from '../../../support/tmp';
import { captureAllowed } from '../collect/capture/support/privilege';
import { eventually, linesWith } from './support';

const allowed = captureAllowed();
const monitors: Monitor[] = [];
afterEach(async () => {
  for (const m of monitors.splice(0)) await m.stop();
});

/** Pids of this process's children running the capture child, read from /proc. */
function captureChildren(): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4, after the command name in parentheses (which may hold spaces), is the parent.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('captureChild')) out.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

describe.runIf(process.platform === 'linux')('the capture process dies', () => {
  it.skipIf(!allowed.ok)(`killed with SIGKILL, it is started again after a wait that doubles, and status and metrics count it${allowed.ok ? '' : ` (skipped: ${allowed.reason})`}`, async () => {
    let t = Date.now();
    const lines: string[] = [];
    const monitor = new Monitor({
      dbPath: path.join(tempDir(), 'portent.db'),
      log: createLogger((l) => lines.push(l), 'debug'),
      roundSeconds: 60,
      capture: { iface: 'lo', restartAfterMs: 60_000 },
      captureHelper: null,
      now: () => t,
    });
    monitors.push(monitor);
    monitor.start();
    const round = async (advanceMs: number) => {
      t += advanceMs;
      await monitor.collectNow();
    };

    expect(await eventually(() => monitor.captureStatus().state === 'on' && captureChildren().length === 1, 300)).toBe(true);
    const [first] = captureChildren();
    process.kill(first!, 'SIGKILL');
    expect(await eventually(() => monitor.captureStatus().state === 'error', 300)).toBe(true);
    expect(monitor.captureStatus()).toMatchObject({
      message: 'packet capture failed: capture process exited (SIGKILL)',
      restarts: 0,
      lastFailure: { at: t, message: 'capture process exited (SIGKILL)' },
    });

    // Not before its wait is over.
    await round(30_000);
    expect(monitor.captureStatus().state).toBe('error');
    expect(captureChildren()).toEqual([]);
    await round(31_000);
    expect(await eventually(() => monitor.captureStatus().state === 'on', 300)).toBe(true);
    const [second] = captureChildren();
    expect(second).not.toBe(first);
    expect(monitor.captureStatus()).toMatchObject({ state: 'on', restarts: 1 });

    // Killed again soon after: the wait doubles.
    process.kill(second!, 'SIGKILL');
    expect(await eventually(() => monitor.captureStatus().state === 'error', 300)).toBe(true);
    const waits = linesWith(lines, 'packet capture failed: capture process exited (SIGKILL)').map((l) => (JSON.parse(l) as { restartInSeconds: number }).restartInSeconds);
    expect(waits).toEqual([60, 120]);
    await round(61_000);
    expect(monitor.captureStatus().state).toBe('error');
    await round(60_000);
    expect(await eventually(() => monitor.captureStatus().state === 'on', 300)).toBe(true);

    const status = monitor.status();
    expect(StatusSchema.parse(status)).toEqual(status);
    expect(status.capture).toMatchObject({ state: 'on', iface: 'lo', restarts: 2, lastFailure: { message: 'capture process exited (SIGKILL)' } });
    expect(formatStatus(status)).toMatch(/restarted 2 times; last died \S+: capture process exited \(SIGKILL\)/);
    expect(await createMetrics(monitor).text()).toMatch(/^portent_capture_restarts_total 2$/m);
    expect(linesWith(lines, 'starting the capture process again')).toHaveLength(2);
    expect(linesWith(lines, 'capture failed')).toEqual([]);
  }, 60_000);
});
