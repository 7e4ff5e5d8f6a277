/**
 * Portent in the systems fleets run: Debian's real Prometheus scrapes a real `portent serve`
 * with metrics on, over 127.0.0.1, with the metrics token as its bearer credentials file. The
 * target must be up and a metric must carry the value the database holds after real rounds.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitOf, runCli, startCli, waitForOutput } from '../../support/cli';
import { tempDir } from '../../support/tmp';
import Database from 'better-sqlite3';

const PROMETHEUS = '/usr/bin/prometheus';
const why = fs.existsSync(PROMETHEUS) ? null : 'Debian\'s prometheus is not installed (scripts/install-system-deps.sh installs it)';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, probe: () => Promise<T | null>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

describe.skipIf(why !== null)(`metrics scraped by a real Prometheus (${why ?? 'Debian prometheus'})`, () => {
  it('is an up target whose portent_rounds_total is the rounds the database holds; a scrape without the token is refused', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'portent.db');
    const metricsPort = await freePort();
    for (const [key, value] of [['metrics.enabled', 'true'], ['metrics.listen', `127.0.0.1:${metricsPort}`]]) {
      const r = runCli(['config', 'set', key!, value!, '--db', db]);
      expect(r.status, r.stderr).toBe(0);
    }
    const serve = startCli(['serve', '--port', '0', '--db', db, '--round-seconds', '1', '--no-capture']);
    const serveExit = exitOf(serve);
    let prometheus: ChildProcess | undefined;
    try {
      await waitForOutput(serve.stderr, /"msg":"metrics serving"/, 60_000);
      const tokenFile = `${db}.metrics-token`;
      expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
      const unauthorized = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(unauthorized.status).toBe(401);

      const promPort = await freePort();
      const config = path.join(dir, 'prometheus.yml');
      fs.writeFileSync(
        config,
        [
          'global:',
          '  scrape_interval: 1s',
          'scrape_configs:',
          '  - job_name: portent',
          '    authorization:',
          `      credentials_file: ${tokenFile}`,
          '    static_configs:',
          `      - targets: ['127.0.0.1:${metricsPort}']`,
          '',
        ].join('\n'),
      );
      const check = spawnSync('promtool', ['check', 'config', config], { encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);
      prometheus = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' });
      const api = `http://127.0.0.1:${promPort}/api/v1`;
      const target = await until(
        'the target to be up',
        async () => {
          const body = (await (await fetch(`${api}/targets`)).json()) as { data: { activeTargets: { health: string; lastError: string; scrapeUrl: string }[] } };
          const t = body.data.activeTargets[0];
          return t && t.health === 'up' ? t : null;
        },
        60_000,
      );
      expect(target.scrapeUrl).toBe(`http://127.0.0.1:${metricsPort}/metrics`);
      // A value Prometheus scraped, against what the database holds at about the same time.
      const scraped = await until(
        'portent_rounds_total to reach 3',
        async () => {
          const body = (await (await fetch(`${api}/query?query=${encodeURIComponent('portent_rounds_total{status="ok"}')}`)).json()) as { data: { result: { value: [number, string] }[] } };
          const v = Number(body.data.result[0]?.value[1]);
          return v >= 3 ? v : null;
        },
        60_000,
      );
      const stored = new Database(db, { readonly: true }).prepare("SELECT count(*) FROM rounds WHERE status = 'ok'").pluck().get() as number;
      expect(scraped).toBeGreaterThanOrEqual(3);
      // Rounds come every second: the database may be a few ahead of the last scrape, never behind.
      expect(stored).toBeGreaterThanOrEqual(scraped);
      expect(stored - scraped).toBeLessThanOrEqual(5);
      const up = (await (await fetch(`${api}/query?query=${encodeURIComponent('portent_capture_up')}`)).json()) as { data: { result: { value: [number, string] }[] } };
      expect(up.data.result[0]?.value[1]).toBe('0');
      console.log(`Prometheus scraped ${target.scrapeUrl}: portent_rounds_total{status="ok"} ${scraped} (database: ${stored})`);
    } finally {
      prometheus?.kill('SIGTERM');
      serve.kill('SIGTERM');
    }
    expect((await serveExit).code).toBe(0);
  }, 120_000);
});
