import { afterEach, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { Monitor } from '../../../../src/main/engine/monitor';
import { createLogger } from '../../../../src/main/engine/log';
import type { Db } from '../../../../src/main/engine/store/database';
import { openDatabase } from '../../../../src/main/engine/store/database';
import { SettingsStore } from '../../../../src/main/engine/store/settingsStore';
import { buildAndKeep, deliverPendingMail, type ReportContext } from '../../../../src/main/engine/report/dailyReport';
import { ReportStore } from '../../../../src/main/engine/report/reportStore';
import { mailSettings } from '../../../../src/main/engine/report/reportMail';
import { defaultSettings, type Settings } from '../../../../src/shared/settings';
import { openTestDb } from '../../../support/db';
import { freePort } from '../../../support/net';
import { PERIOD, seedDay } from './seedDay';

/**
 * The report e-mail against a real SMTP server (smtp-server) on 127.0.0.1 that the test starts:
 * what arrives, the login, a server that is down and then back, and a password that stays out
 * of every log line.
 */

const PASSWORD = 'correct horse battery staple';

interface Received {
  from: string;
  to: string[];
  user: string | undefined;
  raw: string;
}

const servers: SMTPServer[] = [];
const dbs: Db[] = [];
const monitors: Monitor[] = [];
afterEach(async () => {
  for (const m of monitors.splice(0)) await m.stop();
  for (const d of dbs.splice(0)) if (d.open) d.close();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

/** A plain-text SMTP server on 127.0.0.1:`port` that takes one user and keeps what it receives. */
async function startSmtp(port: number): Promise<Received[]> {
  const received: Received[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === 'portent' && auth.password === PASSWORD) callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return received;
}

/** A quoted-printable body part as text. */
const decoded = (raw: string) => raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));

function mailSettingsFor(port: number, over: Partial<Settings> = {}): Settings {
  return {
    ...defaultSettings(),
    'report.smtp.host': '127.0.0.1',
    'report.smtp.port': port,
    'report.smtp.tls': 'none',
    'report.smtp.user': 'portent',
    'report.smtp.password': PASSWORD,
    'report.smtp.from': 'portent@example.net',
    'report.smtp.to': 'ops@example.net, admin@example.net',
    ...over,
  };
}

/** A seeded day whose report is built and waiting for its e-mail. */
function waitingReport(settings: Settings): { ctx: ReportContext; lines: string[] } {
  const { db, file } = openTestDb();
  dbs.push(db);
  seedDay(db);
  const lines: string[] = [];
  const ctx: ReportContext = { db, dbPath: file, settings, now: PERIOD.to + 60_000, log: createLogger((l) => lines.push(l), 'debug'), host: 'testhost' };
  buildAndKeep(ctx, PERIOD, 'schedule');
  return { ctx, lines };
}

describe('the daily report by e-mail', () => {
  it('is off without a server or a recipient', () => {
    expect(mailSettings(defaultSettings())).toBeNull();
    expect(mailSettings({ ...mailSettingsFor(25), 'report.smtp.to': '' })).toBeNull();
    expect(mailSettings(mailSettingsFor(25))?.to).toEqual(['ops@example.net', 'admin@example.net']);
  });

  it('arrives at the SMTP server: logged in, to every recipient, with the HTML report and its text', async () => {
    const port = await freePort();
    const received = await startSmtp(port);
    const { ctx, lines } = waitingReport(mailSettingsFor(port));
    expect(new ReportStore(ctx.db).get('2026-11-21')?.mail).toEqual({ status: 'pending', attempts: 0, error: null });

    const outcome = await deliverPendingMail(ctx);
    expect(outcome).toEqual({ sent: ['2026-11-21'], failed: null });
    expect(received).toHaveLength(1);
    const mail = received[0]!;
    expect(mail.user).toBe('portent');
    expect(mail.from).toBe('portent@example.net');
    expect(mail.to).toEqual(['ops@example.net', 'admin@example.net']);
    // Headers unfolded (a long subject is folded over lines).
    expect(mail.raw.replace(/\r\n[ \t]+/g, ' ')).toContain('Subject: Portent, 2026-11-21 on testhost: 3 incidents, 3 new listeners, 2 new programs talking out\r\n');
    expect(mail.raw).toMatch(/Content-Type: text\/plain/);
    expect(mail.raw).toMatch(/Content-Type: text\/html/);
    const body = decoded(mail.raw);
    expect(body).toContain('Port 4444/tcp started listening: nc, never seen before.');
    expect(body).toContain('<svg class="chart" role="img" aria-label="Traffic per hour');
    expect(body).toContain('bash since 2026-11-20 10:06 to 203.0.113.9:4444');
    expect(new ReportStore(ctx.db).get('2026-11-21')?.mail).toEqual({ status: 'sent', attempts: 1, error: null });
    // Sent once: nothing waits any more.
    expect(await deliverPendingMail(ctx)).toEqual({ sent: [], failed: null });
    expect(received).toHaveLength(1);
    expect(lines.join('\n')).not.toContain(PASSWORD);
  });

  it('fails while the server is down, says why, keeps the report waiting, and sends it once the server is back', async () => {
    const port = await freePort();
    const { ctx, lines } = waitingReport(mailSettingsFor(port));
    const down = await deliverPendingMail(ctx);
    expect(down.sent).toEqual([]);
    expect(down.failed?.day).toBe('2026-11-21');
    expect(down.failed?.error).toMatch(/ECONNREFUSED/);
    expect(new ReportStore(ctx.db).get('2026-11-21')?.mail).toMatchObject({ status: 'pending', attempts: 1, error: expect.stringMatching(/ECONNREFUSED/) });
    const warning = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'daily report e-mail failed; it is tried again at the next round');
    expect(warning).toMatchObject({ level: 'warn', day: '2026-11-21', attempt: 1, server: `127.0.0.1:${port}`, error: expect.stringMatching(/ECONNREFUSED/) });

    const received = await startSmtp(port);
    expect(await deliverPendingMail(ctx)).toEqual({ sent: ['2026-11-21'], failed: null });
    expect(received).toHaveLength(1);
    expect(new ReportStore(ctx.db).get('2026-11-21')?.mail).toEqual({ status: 'sent', attempts: 2, error: null });
  });

  it('is refused with a wrong password, and never writes the password it tried to a log line', async () => {
    const port = await freePort();
    const received = await startSmtp(port);
    const wrong = 'not-the-password-2026';
    const { ctx, lines } = waitingReport(mailSettingsFor(port, { 'report.smtp.password': wrong }));
    const outcome = await deliverPendingMail(ctx);
    expect(outcome.failed?.error).toMatch(/Invalid username or password/);
    expect(received).toEqual([]);
    expect(lines.join('\n')).toContain('Invalid username or password');
    expect(lines.join('\n')).not.toContain(wrong);
    expect(new ReportStore(ctx.db).get('2026-11-21')?.mail.status).toBe('pending');
  });

  it('with starttls, refuses to send to a server that cannot encrypt (the password is not sent in clear)', async () => {
    const port = await freePort();
    const received = await startSmtp(port);
    const { ctx } = waitingReport(mailSettingsFor(port, { 'report.smtp.tls': 'starttls' }));
    const outcome = await deliverPendingMail(ctx);
    expect(outcome.failed?.error).toMatch(/STARTTLS/);
    expect(received).toEqual([]);
  });

  it('is retried by the running monitor at the next round after a failure', async () => {
    const port = await freePort();
    const { db, file } = openTestDb();
    seedDay(db);
    const store = new SettingsStore(db);
    for (const [k, v] of Object.entries(mailSettingsFor(port))) if (k.startsWith('report.smtp.')) store.set(k, v);
    db.close();
    const lines: string[] = [];
    const clock = { now: PERIOD.to + 3_600_000 };
    const monitor = new Monitor({
      dbPath: file, roundSeconds: 60, capture: false, now: () => clock.now, log: createLogger((l) => lines.push(l), 'debug'),
      scanner: { scan: () => Promise.resolve({ takenAt: clock.now, sockets: [], connected: [], connections: [] }) },
    });
    monitors.push(monitor);
    const failedOnce = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (lines.some((l) => l.includes('daily report e-mail failed'))) {
          clearInterval(timer);
          resolve();
        }
      }, 20);
    });
    monitor.start();
    await failedOnce;
    const received = await startSmtp(port);
    await monitor.collectNow();
    const deadline = Date.now() + 10_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await monitor.stop();
    expect(received).toHaveLength(1);
    const check = openDatabase(file, { readonly: true });
    dbs.push(check);
    expect(new ReportStore(check).get('2026-11-21')?.mail).toEqual({ status: 'sent', attempts: 2, error: null });
    expect(lines.join('\n')).not.toContain(PASSWORD);
  });
});
