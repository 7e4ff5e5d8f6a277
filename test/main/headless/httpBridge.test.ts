import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../../src/main/engine/store/database';
import { createEngineApi } from '../../../src/main/engine/api';
import { CONTENT_SECURITY_POLICY, MAX_BODY_BYTES, resolveStatic, startHttpBridge, type HttpBridge } from '../../../src/main/headless/httpBridge';
import { openTestDb } from '../../support/db';
import type { EngineEvent } from '../../../src/shared/methods';
import { repoRoot } from '../../support/cli';
import { tempDir } from '../../support/tmp';
import { TestHost } from '../engine/api/host';

let db: Db;
let bridge: HttpBridge;
let base: string;
let auth: Record<string, string>;
let staticDir: string;

beforeEach(async () => {
  db = openTestDb().db;
  // The page's folder, beside a file that must never be served.
  const top = tempDir('portent-bridge-');
  staticDir = path.join(top, 'renderer');
  fs.mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Portent</title>');
  fs.writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(top, 'secret.txt'), 'not for the browser');
  fs.symlinkSync(path.join(top, 'secret.txt'), path.join(staticDir, 'link.txt'));
  bridge = await startHttpBridge({ handlers: createEngineApi(new TestHost(db)), staticDir, port: 0 });
  base = `http://127.0.0.1:${bridge.port}`;
  auth = { Authorization: `Bearer ${bridge.token}` };
});
afterEach(async () => {
  await bridge.close();
  db.close();
});

/** A raw request, so paths and headers go out exactly as written (fetch would normalise them). */
function raw(pathname: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: bridge.port, path: pathname, method, headers: { Host: `127.0.0.1:${bridge.port}`, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function call(method: string, args: unknown, headers: Record<string, string> = auth): Promise<Response> {
  return fetch(`${base}/api/${method}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(args) });
}

describe('HTTP bridge', () => {
  it('listens on 127.0.0.1 only, with a 32-byte random token in the address\'s fragment', () => {
    expect(bridge.url).toBe(`http://127.0.0.1:${bridge.port}/#token=${bridge.token}`);
    expect(Buffer.from(bridge.token, 'base64url')).toHaveLength(32);
  });

  it('refuses API calls without the bearer token or with a wrong one; a cookie or a query token counts for nothing', async () => {
    const cookie = { Cookie: `portent_${bridge.port}=${bridge.token}` };
    for (const r of [
      await call('getStatus', [], {}),
      await call('getStatus', [], { Authorization: 'Bearer nope' }),
      await call('getStatus', [], { Authorization: `Bearer ${bridge.token.slice(1)}` }),
      await call('getStatus', [], cookie),
      await fetch(`${base}/api/getStatus?token=${bridge.token}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '[]' }),
    ]) {
      expect(r.status).toBe(401);
      expect(await r.text()).toMatch(/access token/);
    }
    expect((await call('getStatus', [])).status).toBe(200);
  });

  it('serves the page\'s own files to anyone, with no cookie and no redirect, and the API to the token', async () => {
    const page = await fetch(`${base}/?token=${bridge.token}`, { redirect: 'manual' });
    expect(page.status).toBe(200);
    expect(page.headers.get('set-cookie')).toBeNull();
    expect(await page.text()).toContain('<title>Portent</title>');
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    const script = await fetch(`${base}/assets/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toBe('console.log(1)');
    const api = await call('listIncidents', [{ limit: 5 }]);
    expect(await api.json()).toEqual({ ok: true, result: [] });
  });

  it('streams the engine\'s events to a page holding the token, and stops listening when it goes', async () => {
    const emitter = new EventEmitter();
    const events = (listener: (e: EngineEvent) => void) => {
      emitter.on('event', listener);
      return () => void emitter.off('event', listener);
    };
    const streaming = await startHttpBridge({ handlers: createEngineApi(new TestHost(db)), staticDir: path.join(repoRoot, 'test'), port: 0, events });
    try {
      const at = `http://127.0.0.1:${streaming.port}/api/events`;
      expect((await fetch(at)).status).toBe(401);
      const abort = new AbortController();
      const res = await fetch(at, { headers: { Authorization: `Bearer ${streaming.token}` }, signal: abort.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = (await reader.read()).value ?? '';
      expect(emitter.listenerCount('event')).toBe(1);
      emitter.emit('event', { type: 'changed' });
      emitter.emit('event', { type: 'incidents', ids: [4, 5] });
      while (!text.includes('"ids":[4,5]')) text += (await reader.read()).value ?? '';
      expect(text).toContain('data: {"type":"changed"}\n\n');
      expect(text).toContain('data: {"type":"incidents","ids":[4,5]}\n\n');
      abort.abort();
      for (let i = 0; i < 50 && emitter.listenerCount('event') > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(emitter.listenerCount('event')).toBe(0);
    } finally {
      await streaming.close();
    }
  });

  it('sends the same Content-Security-Policy as the page declares', () => {
    const html = fs.readFileSync(path.join(repoRoot, 'src', 'renderer', 'index.html'), 'utf8');
    const declared = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    expect(declared).toBe(CONTENT_SECURITY_POLICY);
  });

  it('calls contract methods with JSON arguments and returns their results', async () => {
    const status = await call('getStatus', []);
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ ok: true, result: { version: '0.0.0-test', paused: false } });
    const paused = await call('setPaused', [true]);
    expect(await paused.json()).toMatchObject({ ok: true, result: { paused: true } });
    const setting = await call('setSetting', ['detection.sensitivity', 'low']);
    expect(await setting.json()).toEqual({ ok: true, result: { ok: true, value: 'low' } });
  });

  it('answers 400 naming the method for bad arguments, 404 for an unknown method, 500 with only the message', async () => {
    const bad = await call('listIncidents', [{ limit: 0 }]);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ ok: false, error: expect.stringMatching(/^Invalid arguments for listIncidents: 0\.limit/) });
    const notJson = await fetch(`${base}/api/getStatus`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: '[' });
    expect(notJson.status).toBe(400);
    expect((await call('dropTables', [])).status).toBe(404);
    expect((await call('__proto__', [])).status).toBe(404);
    const failed = await call('getIncident', [42]);
    expect(failed.status).toBe(500);
    const body = (await failed.json()) as { ok: boolean; error: string };
    expect(body).toEqual({ ok: false, error: 'no incident 42' });
    expect((await fetch(`${base}/api/getStatus`, { headers: auth })).status).toBe(405);
    const text = await fetch(`${base}/api/getStatus`, { method: 'POST', headers: { ...auth, 'Content-Type': 'text/plain' }, body: '[]' });
    expect(text.status).toBe(415);
  });

  it('refuses a body over the size limit', async () => {
    const big = JSON.stringify(['x'.repeat(MAX_BODY_BYTES)]);
    const r = await raw('/api/setSetting', { ...auth, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(big)) }, 'POST', big);
    expect(r.status).toBe(413);
  });

  it('refuses a foreign Host header (DNS rebinding) and a cross-origin POST', async () => {
    expect((await raw('/', { ...auth, Host: `evil.example:${bridge.port}` })).status).toBe(403);
    expect((await raw('/', { ...auth, Host: '127.0.0.1' })).status).toBe(403);
    expect((await raw('/', { ...auth, Host: `localhost:${bridge.port}` })).status).toBe(200);
    const cross = await raw('/api/getStatus', { ...auth, 'Content-Type': 'application/json', Origin: 'http://evil.example' }, 'POST', '[]');
    expect(cross.status).toBe(403);
    const same = await raw('/api/getStatus', { ...auth, 'Content-Type': 'application/json', Origin: `http://127.0.0.1:${bridge.port}` }, 'POST', '[]');
    expect(same.status).toBe(200);
  });

  it('never serves a file outside its folder', async () => {
    for (const attempt of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%2e%2e%2fsecret.txt', '/..\\secret.txt', '/link.txt', '//etc/passwd', '/etc/passwd', '/%00index.html', '/%E0%A4%A']) {
      const r = await raw(attempt, auth);
      expect([400, 403, 404], attempt).toContain(r.status);
      expect(r.body, attempt).not.toContain('not for the browser');
    }
    expect((await raw('/assets/', auth)).status).toBe(404);
    // The guard itself: decoded first, then resolved, then checked to stay inside.
    expect(resolveStatic('/srv/page', '/')).toBe('/srv/page/index.html');
    expect(resolveStatic('/srv/page', '/assets/app.js')).toBe('/srv/page/assets/app.js');
    expect(resolveStatic('/srv/page', '//etc/passwd')).toBe('/srv/page/etc/passwd');
    for (const p of ['/../x', '/a/../../x', '/%2e%2e/x', '/..%2fx', '/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/%00', '/%E0%A4%A']) expect(resolveStatic('/srv/page', p), p).toBeNull();
    expect((await raw('/missing.js', auth)).status).toBe(404);
  });

  it('closes a file it was sending when the browser goes away halfway', async () => {
    // Larger than what the socket buffers hold, so the server is still reading when the client leaves.
    const big = path.join(staticDir, 'assets', 'big.wasm');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 256 * 1024 * 1024);
    const real = fs.realpathSync(big);
    const openOnIt = () =>
      fs.readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`) === real;
        } catch {
          return false;
        }
      }).length;
    await new Promise<void>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: bridge.port, path: '/assets/big.wasm', headers: { Host: `127.0.0.1:${bridge.port}` } }, (res) => {
        expect(res.statusCode).toBe(200);
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', reject);
    });
    await vi.waitFor(() => expect(openOnIt()).toBe(0), { timeout: 3000, interval: 50 });
  });
});
