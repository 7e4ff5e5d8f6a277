import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineClient } from '../../engine/host/engineClient';
import { subscribeEngineEvents } from '../../engine/monitorEvents';
import { UsageError, type Command, type CommandContext } from '../command';
import { startHttpBridge } from '../httpBridge';
import { startMetricsIfEnabled } from '../../engine/metricsServer';
import { removeWebAddress, webAddressFileOf, writeWebAddress } from '../webAddress';
import { MONITOR_OPTIONS, MONITOR_USAGE, nextStopSignal, openServiceLog, parseMonitorOptions } from '../monitorOptions';
import { portentLine } from '../../engine/invocation';

/** The checkout or package this module runs from: the nearest folder with a package.json. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve('.');
    dir = parent;
  }
}

/** The built web page: `out/renderer` of the checkout or package this module runs from. */
export function defaultRendererDir(): string {
  return path.join(packageRoot(), 'out', 'renderer');
}

/**
 * Makes sure the web page is built. A checkout (its build configuration beside package.json)
 * that was never built is built once, with `npm run build`, telling the user so: the Quick start
 * installs and runs without a build step. An installed tree without the page cannot build it and
 * says what is missing. Returns false (having said why) when there is still no page.
 */
export function ensureWebPage(root: string, stderr: NodeJS.WritableStream): boolean {
  const index = path.join(root, 'out', 'renderer', 'index.html');
  if (fs.existsSync(index)) return true;
  if (!fs.existsSync(path.join(root, 'electron.vite.config.ts'))) {
    stderr.write(`portent serve: the web page is not built (${index} is missing); build it with \`npm run build\` in a checkout, or install a release that has it.\n`);
    return false;
  }
  stderr.write('portent serve: the web page is not built yet; building it once (npm run build)…\n');
  const r = spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0 || !fs.existsSync(index)) {
    const why = r.error ? r.error.message : (r.stderr ?? '').trim().split('\n').slice(-5).join('\n');
    stderr.write(`portent serve: building the web page failed${why ? `:\n${why}` : ''}\nRun \`npm run build\` in ${root} to see why.\n`);
    return false;
  }
  return true;
}

function isTerminal(stream: NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/**
 * What `serve` prints once it serves. On a terminal, the address with its token, to open. Not on
 * a terminal (a service: stdout goes to the journal, readable by the adm and systemd-journal
 * groups, or to a file), the address without the token and where the whole address is kept: the
 * token never leaves the private file.
 */
export function serveAnnouncement(url: string, addressFile: string, terminal: boolean): string {
  if (terminal) return `Portent is at ${url}\n`;
  const u = new URL(url);
  return `Portent is serving at ${u.origin}/; the address with its access token is in ${addressFile} (readable by this user only), and \`${portentLine('status')}\` shows it.\n`;
}

/** `--port N`: 0 (the default) lets the system pick a free port. */
function portOption(ctx: CommandContext): number {
  const raw = ctx.values.port;
  if (raw === undefined) return 0;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new UsageError(`--port must be a port number from 0 to 65535 (0: any free port); got '${String(raw)}'`);
  }
  return n;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run the monitor and its web page on 127.0.0.1 until SIGINT or SIGTERM',
  usage: `[--port N] ${MONITOR_USAGE}`,
  options: { ...MONITOR_OPTIONS, port: { type: 'string' } },
  async run(ctx) {
    const options = parseMonitorOptions(ctx);
    const port = portOption(ctx);
    const staticDir = defaultRendererDir();
    if (!ensureWebPage(packageRoot(), ctx.stderr)) return 1;
    const { log, writeLine, close } = openServiceLog(ctx, options.dbPath);
    const stopSignal = nextStopSignal();
    // Signal listeners do not keep Node's event loop alive; this timer does until a stop is asked.
    const keepAlive = setInterval(() => {}, 1 << 30);
    // The engine runs in its own thread, so no query delays the HTTP server (see engineClient.ts).
    let engine: EngineClient | null = null;
    let closeMetrics = (): Promise<void> => Promise.resolve();
    try {
      engine = await EngineClient.start({ ...options, logLine: writeLine });
      const running = engine;
      const events = (listener: Parameters<typeof subscribeEngineEvents>[1]) => subscribeEngineEvents(running, listener);
      const bridge = await startHttpBridge({ handlers: engine.handlers, staticDir, port, events }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE') throw new UsageError(`port ${port} on 127.0.0.1 is in use; choose another with --port, or --port 0 for any`);
        throw err;
      });
      const metrics = await startMetricsIfEnabled({ settings: (await engine.handlers.getSettings()).values, dbPath: options.dbPath, read: () => running.metrics(), log });
      closeMetrics = () => metrics?.close() ?? Promise.resolve();
      // For `portent status` in another shell; readable by this user only, as the address
      // carries the token. Never written to the log.
      writeWebAddress(options.dbPath, bridge.url);
      ctx.stdout.write(serveAnnouncement(bridge.url, webAddressFileOf(options.dbPath), isTerminal(ctx.stdout)));
      log.info('web page serving', { port: bridge.port });
      // A crash of the engine's thread ends serve too (with an error, so that a service restarts).
      const failed = new Promise<Error>((resolve) => running.once('failed', resolve));
      const outcome = await Promise.race([stopSignal.then((signal) => ({ signal })), failed.then((error) => ({ error }))]);
      if ('error' in outcome) {
        log.error('the engine stopped unexpectedly; serve ends', { error: outcome.error.message });
        removeWebAddress(options.dbPath);
        await bridge.close();
        return 1;
      }
      const signal = outcome.signal;
      log.info('stopping', { signal });
      removeWebAddress(options.dbPath);
      await bridge.close();
      return 0;
    } finally {
      await closeMetrics();
      await engine?.stop();
      clearInterval(keepAlive);
      close();
    }
  },
};
