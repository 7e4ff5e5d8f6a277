import fs from 'node:fs';
import path from 'node:path';
import { createLogger, type Logger } from '../engine/log';
import { RotatingFile } from '../engine/logFile';
import { UsageError, type CommandContext } from './command';
import { resolveDbPath } from './dbOption';
import { portentLine } from '../engine/invocation';

/**
 * The options of the commands that run the monitor (`run`, `serve`), parsed once for both.
 */

/** The option specs those commands share. */
export const MONITOR_OPTIONS = {
  db: { type: 'string' },
  'round-seconds': { type: 'string' },
  'detect-every': { type: 'string' },
  iface: { type: 'string' },
  filter: { type: 'string' },
  'no-capture': { type: 'boolean' },
  'capture-helper': { type: 'string' },
} as const;

export const MONITOR_USAGE = '[--db PATH] [--round-seconds N] [--detect-every N] [--iface NAME] [--filter BPF] [--no-capture] [--capture-helper PATH|none]';

/** Resolves with the first of SIGINT or SIGTERM; listeners are installed at once, before any work. */
export function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let watch: NodeJS.Timeout | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      clearInterval(watch);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // Started by `npm run` (which sets npm_lifecycle_event), the monitor is npm's child, and npm
    // exits on SIGTERM without passing it on: npm going away (this process handed to another
    // parent) counts as the SIGTERM it was sent. Elsewhere a parent's exit means nothing (nohup).
    if (process.env.npm_lifecycle_event !== undefined && process.platform !== 'win32') {
      const parent = process.ppid;
      watch = setInterval(() => {
        if (process.ppid !== parent) onSignal('SIGTERM');
      }, 1000);
      watch.unref();
    }
  });
}

/** `--detect-every N`: rounds between detections; absent, the monitor follows its setting. */
export function detectEveryOption(ctx: CommandContext, roundSeconds: number): number | undefined {
  const raw = ctx.values['detect-every'];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  const period = n * roundSeconds;
  const fits = Number.isInteger(n) && n >= 1 && ((period < 60 && 60 % period === 0) || (period % 60 === 0 && period <= 3600 && 3600 % period === 0));
  if (typeof raw !== 'string' || !fits) {
    throw new UsageError(`--detect-every must be a number of rounds whose length (${roundSeconds} s each) divides a minute or an hour evenly; got '${String(raw)}'`);
  }
  return n;
}

/** `--round-seconds N` compresses time for tests and demos; rounds stay aligned to the clock. */
export function roundSecondsOption(ctx: CommandContext): number {
  const raw = ctx.values['round-seconds'];
  if (raw === undefined) return 60;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(n) || n < 1 || n > 60 || 60 % n !== 0) {
    throw new UsageError(`--round-seconds must be a whole divisor of 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60); got '${String(raw)}'`);
  }
  return n;
}

/**
 * --no-capture turns capture off, --iface/--filter turn it on with those choices (the tests use
 * lo); with neither, the monitor follows its settings.
 */
export function captureOption(ctx: CommandContext): false | { iface?: string; filter?: string } | undefined {
  const { iface, filter } = ctx.values;
  if (ctx.values['no-capture']) {
    if (iface !== undefined || filter !== undefined) throw new UsageError('--no-capture cannot be combined with --iface or --filter');
    return false;
  }
  if (iface === undefined && filter === undefined) return undefined;
  if (iface !== undefined && (typeof iface !== 'string' || iface.trim() === '')) throw new UsageError(`--iface needs an interface name (see \`${portentLine('interfaces')}\`)`);
  return { iface: iface as string | undefined, filter: filter as string | undefined };
}

/**
 * `--capture-helper PATH`: the executable that alone holds the right to capture (see
 * captureHelper.ts); absent, the installed one when there is one, else for root the built one.
 * `--capture-helper none`: no helper; a capture process opens the capture with cap itself and
 * needs the right to capture (null).
 */
export function captureHelperOption(ctx: CommandContext): string | null | undefined {
  const raw = ctx.values['capture-helper'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.trim() === '') throw new UsageError(`--capture-helper needs the path of the capture helper, or none (see \`${portentLine('capture-setup')}\`)`);
  if (ctx.values['no-capture']) throw new UsageError('--no-capture cannot be combined with --capture-helper');
  if (raw === 'none') return null;
  const file = path.resolve(raw);
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch (e) {
    throw new UsageError(`--capture-helper ${file} cannot be run by this user (${(e as NodeJS.ErrnoException).code ?? String(e)}); install it with \`${portentLine('capture-setup')}\` as root`);
  }
  return file;
}

export interface ParsedMonitorOptions {
  dbPath: string;
  roundSeconds: number;
  detectEvery: number | undefined;
  capture: false | { iface?: string; filter?: string } | undefined;
  captureHelper: string | null | undefined;
}

/** All of the above at once, checked before anything is opened. */
export function parseMonitorOptions(ctx: CommandContext): ParsedMonitorOptions {
  const dbPath = resolveDbPath(ctx);
  const roundSeconds = roundSecondsOption(ctx);
  return { dbPath, roundSeconds, detectEvery: detectEveryOption(ctx, roundSeconds), capture: captureOption(ctx), captureHelper: captureHelperOption(ctx) };
}

/** The service's log goes beside its database, rotated by size, and to stderr for the terminal. */
export function openServiceLog(ctx: CommandContext, dbPath: string): { log: Logger; writeLine(line: string): void; close(): void } {
  const file = path.join(path.dirname(dbPath), 'logs', 'portent.log');
  let logFile: RotatingFile;
  try {
    logFile = new RotatingFile(file);
  } catch (err) {
    throw new UsageError(`cannot write the log ${file} (${(err as Error).message}); run Portent where this user may write, with --db PATH or PORTENT_HOME`);
  }
  const writeLine = (line: string): void => {
    ctx.stderr.write(line + '\n');
    logFile.write(line);
  };
  return { log: createLogger(writeLine), writeLine, close: () => logFile.close() };
}
