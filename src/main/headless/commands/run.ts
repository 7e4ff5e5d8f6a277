import { createEngineApi } from '../../engine/api';
import { createMetrics } from '../../engine/metrics';
import { Monitor } from '../../engine/monitor';
import { startMetricsIfEnabled } from '../../engine/metricsServer';
import type { Command } from '../command';
import { MONITOR_OPTIONS, MONITOR_USAGE, nextStopSignal, openServiceLog, parseMonitorOptions } from '../monitorOptions';

export const runCommand: Command = {
  name: 'run',
  summary: 'Run the monitor in the foreground until SIGINT or SIGTERM',
  usage: MONITOR_USAGE,
  options: MONITOR_OPTIONS,
  async run(ctx) {
    const { dbPath, roundSeconds, detectEvery, capture, captureRuntime } = parseMonitorOptions(ctx);
    const { log, close } = openServiceLog(ctx, dbPath);
    const stopSignal = nextStopSignal();
    // Signal listeners do not keep Node's event loop alive; this timer does until a stop is asked.
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      const monitor = new Monitor({ dbPath, log, roundSeconds, detectEvery, capture, captureRuntime });
      monitor.start();
      const engineMetrics = createMetrics(monitor);
      const metrics = await startMetricsIfEnabled({ settings: (await createEngineApi(monitor).getSettings()).values, dbPath, read: () => engineMetrics.text(), log });
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
