import { Monitor } from '../../engine/monitor';
import { createLogger } from '../../engine/log';
import type { Command } from '../command';
import { resolveDbPath } from '../dbOption';

/** Resolves with the first of SIGINT or SIGTERM; listeners are installed at once, before any work. */
function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export const runCommand: Command = {
  name: 'run',
  summary: 'Run the monitor in the foreground until SIGINT or SIGTERM',
  usage: '[--db PATH]',
  options: { db: { type: 'string' } },
  async run(ctx) {
    const log = createLogger((line) => ctx.stderr.write(line + '\n'));
    const stopSignal = nextStopSignal();
    // Signal listeners do not keep Node's event loop alive; this timer does until a stop is asked.
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      const monitor = new Monitor({ dbPath: resolveDbPath(ctx), log });
      monitor.start();
      const signal = await stopSignal;
      log.info('stopping', { signal });
      monitor.stop();
      return 0;
    } finally {
      clearInterval(keepAlive);
    }
  },
};
