/**
 * The Prometheus endpoint: GET /metrics on the address `metrics.listen` names, for scrapers that
 * present the metrics token as a bearer token (Prometheus: `authorization: { credentials_file:
 * ... }`). The token is its own, not the web page's: it is stable across restarts (a scrape
 * config names its file) and kept in `<database>.metrics-token`, readable by its owner only.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { listenAddress } from '../../shared/settings';
import type { Logger } from './log';
import { promClient } from './metrics';

/** Where the metrics token of the database at `dbPath` is kept. */
export function metricsTokenFileOf(dbPath: string): string {
  return `${dbPath}.metrics-token`;
}

/** The metrics token: read from its file, or made (32 random bytes) and written 0600 the first time. */
export function metricsToken(dbPath: string): string {
  const file = metricsTokenFileOf(dbPath);
  try {
    const token = fs.readFileSync(file, 'utf8').trim();
    if (token.length >= 32) return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(32).toString('base64url');
  // Written beside and renamed, so a reader never sees half a token.
  const temp = `${file}.${process.pid}`;
  fs.writeFileSync(temp, `${token}\n`, { mode: 0o600 });
  fs.renameSync(temp, file);
  return token;
}

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  host: string;
  port: number;
  token: string;
  /** The exposition text and its content type, read at each scrape. */
  read(): Promise<{ text: string; contentType: string }>;
}

function authorized(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]!);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
      res.end(body);
    };
    if (path !== '/metrics') return reply(404, 'Portent serves /metrics only.\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'GET /metrics\n', { Allow: 'GET, HEAD' });
    if (!authorized(req.headers.authorization, options.token)) {
      return reply(401, 'A bearer token is needed: the one in the metrics token file beside the database.\n', { 'WWW-Authenticate': 'Bearer realm="portent"' });
    }
    options.read().then(
      ({ text, contentType }) => {
        res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => reply(500, `metrics could not be read: ${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const address = server.address() as { address: string; port: number };
      const host = address.address.includes(':') ? `[${address.address}]` : address.address;
      resolve({
        url: `http://${host}:${address.port}/metrics`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

/**
 * Starts the endpoint when the `metrics.enabled` setting says so, on `metrics.listen`; null
 * otherwise. A bad or busy address is logged and the monitor runs on without metrics.
 */
export async function startMetricsIfEnabled(o: {
  settings: Record<string, unknown>;
  dbPath: string;
  read: () => Promise<string>;
  log: Logger;
}): Promise<MetricsServer | null> {
  if (o.settings['metrics.enabled'] !== true) return null;
  const listen = String(o.settings['metrics.listen']);
  const address = listenAddress(listen);
  if (!address) {
    o.log.error('metrics are not served: metrics.listen is not an address and port', { listen });
    return null;
  }
  try {
    const server = await startMetricsServer({
      ...address,
      token: metricsToken(o.dbPath),
      read: async () => ({ text: await o.read(), contentType: promClient().Registry.PROMETHEUS_CONTENT_TYPE }),
    });
    o.log.info('metrics serving', { url: server.url, tokenFile: metricsTokenFileOf(o.dbPath) });
    return server;
  } catch (err) {
    o.log.error('metrics are not served: cannot listen', { listen, error: err instanceof Error ? err.message : String(err) });
    return null;
  }
}
