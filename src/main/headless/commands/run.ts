import path from 'node:path';
import { Monitor } from '../../engine/monitor';
import { RotatingFile } from '../../engine/logFile';
import { createLogger } from '../../engine/log';
import { UsageError, type Command, type CommandContext } from '../command';
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

/** `--detect-every N`: rounds between detections (60, hourly, by default). */
function detectEveryOption(ctx: CommandContext, roundSeconds: number): number {
  const raw = ctx.values['detect-every'];
  if (raw === undefined) return 60;
  const n = Number(raw);
  const period = n * roundSeconds;
  const fits = Number.isInteger(n) && n >= 1 && ((period < 60 && 60 % period === 0) || (period % 60 === 0 && period <= 3600 && 3600 % period === 0));
  if (typeof raw !== 'string' || !fits) {
    throw new UsageError(`--detect-every must be a number of rounds whose length (${roundSeconds} s each) divides a minute or an hour evenly; got '${String(raw)}'`);
  }
  return n;
}

/** `--round-seconds N` compresses time for tests and demos; rounds stay aligned to the clock. */
function roundSecondsOption(ctx: CommandContext): number {
  const raw = ctx.values['round-seconds'];
  if (raw === undefined) return 60;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(n) || n < 1 || n > 60 || 60 % n !== 0) {
    throw new UsageError(`--round-seconds must be a whole divisor of 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60); got '${String(raw)}'`);
  }
  return n;
}

/** Capture is on by default on the default-route interface; --iface picks another (the tests use lo). */
function captureOption(ctx: CommandContext): false | { iface?: string; filter?: string } {
  const { iface, filter } = ctx.values;
  if (ctx.values['no-capture']) {
    if (iface !== undefined || filter !== undefined) throw new UsageError('--no-capture cannot be combined with --iface or --filter');
    return false;
  }
  if (iface !== undefined && (typeof iface !== 'string' || iface.trim() === '')) throw new UsageError('--iface needs an interface name (see `portent interfaces`)');
  return { iface: iface as string | undefined, filter: filter as string | undefined };
}

export const runCommand: Command = {
  name: 'run',
  summary: 'Run the monitor in the foreground until SIGINT or SIGTERM',
  usage: '[--db PATH] [--round-seconds N] [--detect-every N] [--iface NAME] [--filter BPF] [--no-capture]',
  options: {
    db: { type: 'string' },
    'round-seconds': { type: 'string' },
    'detect-every': { type: 'string' },
    iface: { type: 'string' },
    filter: { type: 'string' },
    'no-capture': { type: 'boolean' },
  },
  async run(ctx) {
    const dbPath = resolveDbPath(ctx);
    const roundSeconds = roundSecondsOption(ctx);
    const detectEvery = detectEveryOption(ctx, roundSeconds);
    const capture = captureOption(ctx);
    // The service's log goes beside its database, rotated by size, and to stderr for the terminal.
    const logFile = new RotatingFile(path.join(path.dirname(dbPath), 'logs', 'portent.log'));
    const log = createLogger((line) => {
      ctx.stderr.write(line + '\n');
      logFile.write(line);
    });
    const stopSignal = nextStopSignal();
    // Signal listeners do not keep Node's event loop alive; this timer does until a stop is asked.
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      const monitor = new Monitor({ dbPath, log, roundSeconds, detectEvery, capture });
      monitor.start();
      const signal = await stopSignal;
      log.info('stopping', { signal });
      await monitor.stop();
      return 0;
    } finally {
      clearInterval(keepAlive);
      logFile.close();
    }
  },
};
