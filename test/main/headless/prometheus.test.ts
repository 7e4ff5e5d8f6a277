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
import { freePort } from '../../support/net';
import Database from 'better-sqlite3';
import http from 'node:http';
import os from 'node:os';
import { repoRoot } from '../../support/cli';
import { collectRound } from '../../../src/main/engine/collect/collectRound';
import { createSocketScanner } from '../../../src/main/engine/collect/sockets';
import { silentLogger } from '../../../src/main/engine/log';
import { openDatabase } from '../../../src/main/engine/store/database';
import { RoundStore } from '../../../src/main/engine/store/rounds';

const PROMETHEUS = '/usr/bin/prometheus';
const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
const why = fs.existsSync(PROMETHEUS) ? null : 'Debian\'s prometheus is not installed (scripts/install-system-deps.sh installs it)';
const whyNoAlertmanager = why ?? (fs.existsSync(ALERTMANAGER) ? null : 'Debian\'s prometheus-alertmanager is not installed (scripts/install-system-deps.sh installs it)');
const MIN = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

describe.skipIf(whyNoAlertmanager !== null)(`an incident raised as an alert through the rules file (${whyNoAlertmanager ?? 'Debian prometheus and prometheus-alertmanager'})`, () => {
  it("reaches Alertmanager, whose webhook receives PortentUnseenIncident for the host that has the incident", async () => {
    const dir = tempDir();
    const db = path.join(dir, 'portent.db');
    // An hour and a half of this machine's real rounds, then a model trained on them.
    const store = openDatabase(db);
    const rounds = new RoundStore(store);
    const scanner = createSocketScanner();
    const start = Date.now() - 93 * MIN;
    for (let i = 0; i < 90; i++) await collectRound({ scanner, store: rounds, host: os.hostname(), log: silentLogger, now: () => start + i * MIN });
    store.close();
    const metricsPort = await freePort();
    for (const [key, value] of [['detection.learningHours', '1'], ['metrics.enabled', 'true'], ['metrics.listen', `127.0.0.1:${metricsPort}`]]) {
      const r = runCli(['config', 'set', key!, value!, '--db', db]);
      expect(r.status, r.stderr).toBe(0);
    }
    const trained = runCli(['detect', '--db', db]);
    expect(trained.status, trained.stderr).toBe(0);

    // What Alertmanager sends its receiver arrives here.
    const received: { alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string> }[] }[] = [];
    const webhook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as (typeof received)[number]);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    const listener = net.createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const serve = startCli(['serve', '--port', '0', '--db', db, '--round-seconds', '1', '--detect-every', '3600', '--no-capture']);
    serve.stdout.on('data', () => {});
    const serveExit = exitOf(serve);
    const children: ChildProcess[] = [];
    try {
      await waitForOutput(serve.stderr, /"msg":"metrics serving"/, 60_000);
      // The new listener is held through a few rounds, then detection is asked for, as "Detect now" does.
      await sleep(5000);
      const address = fs.readFileSync(`${db}.url`, 'utf8').trim();
      const origin = new URL(address).origin;
      const token = new URL(address).hash.replace('#token=', '');
      const detect = (await (await fetch(`${origin}/api/detectNow`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: '[]' })).json()) as { result: { started: boolean; incidents?: number } };
      expect(detect.result.started).toBe(true);
      const unseen = new Database(db, { readonly: true }).prepare("SELECT count(*) FROM incidents WHERE status = 'new'").pluck().get() as number;
      expect(unseen).toBeGreaterThan(0);
      // The same incident, as a log shipper reads it: one ECS line in logs/incidents.jsonl.
      const heldPort = (listener.address() as net.AddressInfo).port;
      const incidentLines = () =>
        fs.readFileSync(path.join(dir, 'logs', 'incidents.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: { action: string }; destination?: { port: number }; process?: { pid: number }; portent: { incident: { id: number; ports: { port: number; change: string; pid: number | null }[] } } });
      const opened = incidentLines().find((l) => l.event.action === 'incident-opened' && l.portent.incident.ports.some((p) => p.port === heldPort));
      expect(opened).toBeDefined();
      const ours = opened!.portent.incident.ports.find((p) => p.port === heldPort);
      expect(ours).toMatchObject({ port: heldPort, change: 'appeared', pid: process.pid });

      const amPort = await freePort();
      const amConfig = path.join(dir, 'alertmanager.yml');
      fs.writeFileSync(
        amConfig,
        [
          'route:',
          '  receiver: test',
          '  group_wait: 1s',
          '  group_interval: 1s',
          'receivers:',
          '  - name: test',
          '    webhook_configs:',
          `      - url: http://127.0.0.1:${(webhook.address() as net.AddressInfo).port}/`,
          '',
        ].join('\n'),
      );
      children.push(spawn(ALERTMANAGER, [`--config.file=${amConfig}`, `--storage.path=${path.join(dir, 'am')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address='], { stdio: 'ignore' }));
      const promPort = await freePort();
      const config = path.join(dir, 'prometheus.yml');
      fs.writeFileSync(
        config,
        [
          'global:',
          '  scrape_interval: 1s',
          '  evaluation_interval: 1s',
          'rule_files:',
          `  - ${path.join(repoRoot, 'deploy', 'prometheus', 'portent.rules.yml')}`,
          'alerting:',
          '  alertmanagers:',
          '    - static_configs:',
          `        - targets: ['127.0.0.1:${amPort}']`,
          'scrape_configs:',
          '  - job_name: portent',
          '    authorization:',
          `      credentials_file: ${db}.metrics-token`,
          '    static_configs:',
          `      - targets: ['127.0.0.1:${metricsPort}']`,
          '',
        ].join('\n'),
      );
      children.push(spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' }));
      const alert = await until(
        'Alertmanager to send PortentUnseenIncident to its receiver',
        () => Promise.resolve(received.flatMap((r) => r.alerts).find((a) => a.labels.alertname === 'PortentUnseenIncident' && a.status === 'firing') ?? null),
        90_000,
      );
      expect(alert.labels).toMatchObject({ alertname: 'PortentUnseenIncident', severity: 'warning', job: 'portent', instance: `127.0.0.1:${metricsPort}` });
      // Rounds and scoring go on meanwhile: by the time of the alert there may be more unseen incidents, never fewer.
      const count = Number(new RegExp(`^127\\.0\\.0\\.1:${metricsPort}: (\\d+) Portent incident\\(s\\) nobody has looked at$`).exec(alert.annotations.summary ?? '')?.[1]);
      expect(count).toBeGreaterThanOrEqual(unseen);
      console.log(`Alertmanager received: ${JSON.stringify(alert)}`);
      // Once alerted: marking it in the window (here through the same API) is a line too.
      const marked = await fetch(`${origin}/api/setIncidentStatus`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify([opened!.portent.incident.id, 'seen']) });
      expect(marked.status).toBe(200);
      expect(incidentLines().filter((l) => l.event.action === 'incident-marked').map((l) => [l.portent.incident.id, (l.portent.incident as unknown as { status: string }).status])).toEqual([[opened!.portent.incident.id, 'seen']]);
    } finally {
      for (const c of children) c.kill('SIGTERM');
      serve.kill('SIGTERM');
      listener.close();
      webhook.close();
    }
    expect((await serveExit).code).toBe(0);
  }, 240_000);
});
