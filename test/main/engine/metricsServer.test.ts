import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricsToken, metricsTokenFileOf, startMetricsIfEnabled, startMetricsServer } from '../../../src/main/engine/metricsServer';
import { createLogger } from '../../../src/main/engine/log';
import { listenAddress } from '../../../src/shared/settings';
import { tempDir } from '../../support/tmp';

describe('the metrics endpoint', () => {
  it('answers GET /metrics only, and only with the bearer token', async () => {
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0, token: 'x'.repeat(43), read: () => Promise.resolve({ text: 'portent_up 1\n', contentType: 'text/plain; version=0.0.4; charset=utf-8' }) });
    try {
      const ok = await fetch(server.url, { headers: { Authorization: `Bearer ${'x'.repeat(43)}` } });
      expect([ok.status, ok.headers.get('content-type'), await ok.text()]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8', 'portent_up 1\n']);
      const none = await fetch(server.url);
      expect([none.status, none.headers.get('www-authenticate')]).toEqual([401, 'Bearer realm="portent"']);
      expect((await fetch(server.url, { headers: { Authorization: `Bearer ${'y'.repeat(43)}` } })).status).toBe(401);
      expect((await fetch(server.url, { headers: { Authorization: 'Bearer short' } })).status).toBe(401);
      expect((await fetch(server.url.replace('/metrics', '/'), { headers: { Authorization: `Bearer ${'x'.repeat(43)}` } })).status).toBe(404);
      expect((await fetch(server.url, { method: 'POST', headers: { Authorization: `Bearer ${'x'.repeat(43)}` } })).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('keeps one token per database, private to its owner, across restarts', () => {
    const db = path.join(tempDir(), 'portent.db');
    const first = metricsToken(db);
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fs.statSync(metricsTokenFileOf(db)).mode & 0o777).toBe(0o600);
    expect(metricsToken(db)).toBe(first);
    // A damaged file gets a new token rather than an empty one.
    fs.writeFileSync(metricsTokenFileOf(db), '\n');
    expect(metricsToken(db)).not.toBe(first);
  });

  it('starts only when enabled, and says why it cannot listen without stopping the monitor', async () => {
    const db = path.join(tempDir(), 'portent.db');
    const lines: string[] = [];
    const log = createLogger((l) => lines.push(l));
    const read = () => Promise.resolve('');
    expect(await startMetricsIfEnabled({ settings: { 'metrics.enabled': false, 'metrics.listen': '127.0.0.1:0' }, dbPath: db, read, log })).toBeNull();
    expect(fs.existsSync(metricsTokenFileOf(db))).toBe(false);
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as net.AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const first = await startMetricsIfEnabled({ settings: { 'metrics.enabled': true, 'metrics.listen': `127.0.0.1:${port}` }, dbPath: db, read, log });
    expect(first?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const busy = new URL(first!.url).port;
    expect(await startMetricsIfEnabled({ settings: { 'metrics.enabled': true, 'metrics.listen': `127.0.0.1:${busy}` }, dbPath: db, read, log })).toBeNull();
    await first!.close();
    expect(lines.map((l) => JSON.parse(l) as { msg: string; error?: string })).toEqual([
      expect.objectContaining({ msg: 'metrics serving' }),
      expect.objectContaining({ msg: 'metrics are not served: cannot listen', error: expect.stringMatching(/EADDRINUSE/) }),
    ]);
  });

  it('reads an address and port, IPv4 or bracketed IPv6, and nothing else', () => {
    expect(listenAddress('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(listenAddress('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    for (const bad of ['localhost:9464', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', '256.0.0.1:80', '::1:9464', '[1.2.3.4]:80', '']) expect(listenAddress(bad)).toBeNull();
  });
});
