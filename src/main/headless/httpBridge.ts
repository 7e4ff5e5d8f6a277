import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { ContractError, invokeMethod, isMethodName, type Handlers } from '../../shared/contract';
import { CONTENT_SECURITY_POLICY, contentTypeOf } from '../../shared/webPage';
import type { EngineEvent } from '../../shared/methods';

/**
 * The contract over HTTP on 127.0.0.1, for the web page `portent serve` offers. Anyone on the
 * machine can reach a loopback port, so every API call must carry the token given at start, as
 * a bearer header. The page gets it from the address's fragment (`/#token=…`), which browsers
 * never send to a server nor put in a Referer, and keeps it in its own origin's storage; there
 * is no cookie, because cookies ignore ports: every other server on 127.0.0.1 (another user's,
 * a dev server with a malicious dependency) would receive it. The page's files themselves are
 * the built UI, the same for everyone, and are served without the token. Host and Origin checks
 * stop other web pages from reaching the API through the browser (DNS rebinding, cross-site
 * POSTs).
 */

export interface HttpBridgeOptions {
  handlers: Handlers;
  /** The built renderer (out/renderer). */
  staticDir: string;
  /** 0 picks a free port. */
  port?: number;
  /** A fixed token (tests); by default 32 random bytes. */
  token?: string;
  /** The engine's events, pushed to pages on `GET /api/events`; returns how to unsubscribe. */
  events?: (listener: (event: EngineEvent) => void) => () => void;
}

/** Comment lines that keep an idle event stream open through proxies and let it notice a close. */
const EVENTS_KEEPALIVE_MS = 25_000;

export interface HttpBridge {
  /** The address to open, the token in its fragment (never sent over HTTP). */
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

export const MAX_BODY_BYTES = 1024 * 1024;

export { CONTENT_SECURITY_POLICY };

const UNAUTHORIZED = 'Portent needs its access token: open the address `portent serve` printed.\n';

/** Equal strings in time that does not depend on where they differ (hashing evens out lengths). */
export function sameSecret(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

/**
 * Maps a URL path to a file inside `root`, or null when it would leave it. The path is decoded
 * first, so `%2e%2e` and `%2f` are judged as what they mean; a NUL byte is refused outright.
 */
export function resolveStatic(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const relative = decoded === '/' ? 'index.html' : decoded.replace(/^[/\\]+/, '');
  const file = path.resolve(root, relative);
  return file.startsWith(root + path.sep) ? file : null;
}

function send(res: http.ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body), 'application/json; charset=utf-8');
}

function readBody(req: http.IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
      resolve('too-large');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.pause();
        resolve('too-large');
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startHttpBridge(options: HttpBridgeOptions): Promise<HttpBridge> {
  const token = options.token ?? crypto.randomBytes(32).toString('base64url');
  const root = fs.realpathSync(path.resolve(options.staticDir));
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const authorized = (req: http.IncomingMessage): boolean => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    return bearer != null && sameSecret(bearer, token);
  };

  const callMethod = async (req: http.IncomingMessage, res: http.ServerResponse, method: string): Promise<void> => {
    if (req.method !== 'POST') return send(res, 405, 'Use POST for API calls.\n', undefined, { Allow: 'POST' });
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host}`) return sendJson(res, 403, { ok: false, error: 'cross-origin calls are refused' });
    if (!isMethodName(method)) return sendJson(res, 404, { ok: false, error: `unknown method ${method}` });
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return sendJson(res, 415, { ok: false, error: 'send the arguments as application/json' });
    const body = await readBody(req);
    if (body === 'too-large') {
      // The rest of the body is not read; closing the connection is how HTTP/1.1 says so.
      res.setHeader('Connection', 'close');
      return sendJson(res, 413, { ok: false, error: `the request is larger than ${MAX_BODY_BYTES} bytes` });
    }
    let args: unknown;
    try {
      args = JSON.parse(body.toString('utf8') || '[]');
    } catch {
      return sendJson(res, 400, { ok: false, error: `Invalid arguments for ${method}: the body is not JSON` });
    }
    try {
      sendJson(res, 200, { ok: true, result: await invokeMethod(options.handlers, method, args) });
    } catch (err) {
      if (err instanceof ContractError) return sendJson(res, 400, { ok: false, error: err.message });
      sendJson(res, 500, { ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  };

  /**
   * Server-sent events: one `data:` line of JSON per engine event, for as long as the page keeps
   * the request open. EventSource cannot send a header, so the page reads this with fetch and
   * its bearer token, like every other call.
   */
  const streamEvents = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (req.method !== 'GET') return send(res, 405, 'Use GET for the event stream.\n', undefined, { Allow: 'GET' });
    if (!options.events) return send(res, 404, 'No events here.\n');
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write(': portent events\n\n');
    const unsubscribe = options.events((event) => res.write(`data: ${JSON.stringify(event)}\n\n`));
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), EVENTS_KEEPALIVE_MS);
    const stop = () => {
      clearInterval(keepAlive);
      unsubscribe();
    };
    req.on('close', stop);
    res.on('error', stop);
  };

  const serveFile = (req: http.IncomingMessage, res: http.ServerResponse, urlPath: string): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'Method not allowed.\n', undefined, { Allow: 'GET, HEAD' });
    const file = resolveStatic(root, urlPath);
    if (!file) return send(res, 403, 'Forbidden.\n');
    let real: string;
    try {
      real = fs.realpathSync(file);
      if (!real.startsWith(root + path.sep) || !fs.statSync(real).isFile()) return send(res, 404, 'Not found.\n');
    } catch {
      return send(res, 404, 'Not found.\n');
    }
    const isIndex = path.basename(real) === 'index.html';
    res.writeHead(200, {
      'Content-Type': contentTypeOf(real),
      'Content-Length': fs.statSync(real).size,
      // The page must never be served from cache after the token or the build changed.
      'Cache-Control': isIndex ? 'no-store' : 'no-cache',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // pipeline, not pipe: it closes the file when the browser leaves halfway (pipe keeps it
    // open), and drops the connection when the file cannot be read.
    pipeline(fs.createReadStream(real), res, () => undefined);
  };

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    if (!hosts.has(req.headers.host ?? '')) return send(res, 403, 'Portent answers only to 127.0.0.1 and localhost.\n');
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const urlPath = q === -1 ? target : target.slice(0, q);
    if (urlPath.startsWith('/api/')) {
      if (!authorized(req)) return send(res, 401, UNAUTHORIZED);
      if (urlPath === '/api/events') return streamEvents(req, res);
      callMethod(req, res, urlPath.slice('/api/'.length)).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { ok: false, error: err instanceof Error ? err.message : String(err) });
        else res.destroy();
      });
      return;
    }
    serveFile(req, res, urlPath);
  });

  return {
    url: `http://127.0.0.1:${port}/#token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
