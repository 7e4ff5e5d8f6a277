import { Monitor } from '../../engine/monitor';
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
      const signal = await stopSignal;
      log.info('stopping', { signal });
      await monitor.stop();
      return 0;
    } finally {
      clearInterval(keepAlive);
      close();
    }
  },
};
