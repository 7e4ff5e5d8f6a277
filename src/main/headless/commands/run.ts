import { createEngineApi } from '../../engine/api';
import { createMetrics } from '../../engine/metrics';
import { Monitor } from '../../engine/monitor';
import { startMetricsIfEnabled } from '../../engine/metricsServer';
import type { Status } from '../../../shared/contract';
import { reportHeadline } from '../../../shared/reportFormat';
import { reportFile } from '../../engine/report/reportFiles';
import type { Command } from '../command';
import { MONITOR_OPTIONS, MONITOR_USAGE, nextStopSignal, openServiceLog, parseMonitorOptions } from '../monitorOptions';

export const runCommand: Command = {
  name: 'run',
  summary: 'Run the monitor in the foreground until SIGINT or SIGTERM',
  usage: MONITOR_USAGE,
  options: MONITOR_OPTIONS,
  async run(ctx) {
    const { dbPath, roundSeconds, detectEvery, capture, captureHelper } = parseMonitorOptions(ctx);
    const { log, close } = openServiceLog(ctx, dbPath);
    const stopSignal = nextStopSignal();
    // Signal listeners do not keep Node's event loop alive; this timer does until a stop is asked.
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      const monitor = new Monitor({ dbPath, log, roundSeconds, detectEvery, capture, captureHelper });
      monitor.start();
      // On a terminal, one line per round; under a service manager the log says what matters.
      if ((ctx.stderr as { isTTY?: boolean }).isTTY) {
        let lastRound: number | null = null;
        monitor.on('changed', () => {
          const line = roundLine(monitor.status(), lastRound);
          if (line) {
            lastRound = line.roundId;
            ctx.stderr.write(line.text + '\n');
          }
        });
        monitor.on('report', (n) => ctx.stderr.write(`daily report of ${n.day}: ${reportHeadline(n.summary)}; ${reportFile(dbPath, n.day, 'html')}\n`));
      }
      // The registry (and its process collectors) is made at the first scrape, not for a monitor that serves none.
      let engineMetrics: ReturnType<typeof createMetrics> | undefined;
      const metrics = await startMetricsIfEnabled({ settings: (await createEngineApi(monitor).getSettings()).values, dbPath, read: () => (engineMetrics ??= createMetrics(monitor)).text(), log });
      const signal = await stopSignal;
      log.info('stopping', { signal });
      await metrics?.close();
      await monitor.stop();
      return 0;
    } finally {
      clearInterval(keepAlive);
      close();
    }
  },
};

/** The line for a round not printed yet: its time, listeners, capture and learning or alerting state. */
export function roundLine(status: Status, printed: number | null): { roundId: number; text: string } | null {
  const r = status.lastRound;
  if (!r || r.status === 'running' || r.id === printed) return null;
  const time = new Date(r.startedAt).toTimeString().slice(0, 8);
  if (r.status === 'failed') return { roundId: r.id, text: `${time} round ${r.id}: failed (${r.error ?? 'no reason given'})` };
  const capture = status.capture.state === 'on' ? `capture on ${status.capture.iface ?? ''}`.trim() : `capture ${status.capture.state}`;
  const model =
    status.model.state === 'ready'
      ? `watching, ${status.incidents.unseen} unseen incident${status.incidents.unseen === 1 ? '' : 's'}`
      : `learning ${Math.floor(status.model.progress * 100)}%`;
  return { roundId: r.id, text: `${time} round ${r.id}: ${r.ports} listening sockets, ${capture}, ${model}` };
}
