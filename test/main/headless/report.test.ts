import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/main/headless/cli';
import { openDatabase } from '../../../src/main/engine/store/database';
import { createEngineApi } from '../../../src/main/engine/api';
import { SettingsStore } from '../../../src/main/engine/store/settingsStore';
import { DailyReportSchema } from '../../../src/shared/contract';
import { SECRET_MASK } from '../../../src/shared/settings';
import { sink } from '../../support/cli';
import { tempDir } from '../../support/tmp';
import { TestHost } from '../engine/api/host';
import { DAY, seedDay } from '../engine/report/seedDay';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = sink();
  const err = sink();
  const code = await main(args, { stdout: out.stream, stderr: err.stream, env: { ...process.env, PORTENT_COMMAND: 'portent' } });
  return { code, stdout: out.text(), stderr: err.text() };
}

function seededFile(): string {
  const file = path.join(tempDir(), 'portent.db');
  const db = openDatabase(file);
  seedDay(db);
  db.close();
  return file;
}

describe('portent report', () => {
  it('prints a day\'s report as text by default, and as JSON the schema accepts', async () => {
    const db = seededFile();
    const text = await cli(['report', '--day', DAY, '--db', db]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^Portent daily report: .+, 2026-11-21\n2026-11-20 09:00 to 2026-11-21 09:00 \(24 h\)\n3 incidents, 3 new listeners, 2 new programs talking out;/);
    expect(text.stdout).toContain('\nPorts opened for the first time\n  4444/tcp at 2026-11-20 10:05 by nc (/usr/bin/nc), user ann, pid 4242\n');
    const json = await cli(['report', '--day', DAY, '--format', 'json', '--db', db]);
    const report = DailyReportSchema.parse(JSON.parse(json.stdout));
    expect(report.summary).toEqual({ incidents: 3, newListeners: 3, newTalkers: 2 });
    expect(report.newTalkers.map((t) => t.process)).toEqual(['bash', 'curl']);
  });

  it('writes HTML to a file whole, leaving nothing half-written beside it', async () => {
    const db = seededFile();
    const dir = tempDir();
    const out = path.join(dir, 'day.html');
    const r = await cli(['report', '--day', DAY, '--format', 'html', '--out', out, '--db', db]);
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: `portent report: wrote ${out}\n` });
    const html = fs.readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">");
    expect(html).toContain('<svg class="chart" role="img" aria-label="Traffic per hour');
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//);
    expect(fs.readdirSync(dir)).toEqual(['day.html']);
  });

  it('escapes what programs and peers call themselves', async () => {
    const db = seededFile();
    const raw = openDatabase(db);
    raw.prepare("UPDATE processes SET name = '<img src=x onerror=alert(1)>' WHERE name = 'nc'").run();
    raw.close();
    const r = await cli(['report', '--day', DAY, '--format', 'html', '--db', db]);
    expect(r.stdout).not.toContain('<img');
    expect(r.stdout).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('refuses a bad day, a bad format and a day not over yet, with exit code 2', async () => {
    const db = seededFile();
    expect(await cli(['report', '--day', '2026-02-30', '--db', db])).toMatchObject({ code: 2, stderr: expect.stringContaining("--day '2026-02-30' is not a day: use a calendar day as YYYY-MM-DD, like 2026-12-05") });
    expect(await cli(['report', '--day', 'yesterday', '--db', db])).toMatchObject({ code: 2, stderr: expect.stringContaining("'yesterday' is not a day") });
    expect(await cli(['report', '--format', 'pdf', '--db', db])).toMatchObject({ code: 2, stderr: expect.stringContaining("--format must be text, html or json; got 'pdf'") });
    expect(await cli(['report', '--day', '2999-01-01', '--db', db])).toMatchObject({ code: 2, stderr: expect.stringContaining('the report of 2999-01-01 covers the 24 hours up to 09:00 that day, which has not come yet') });
    expect(await cli(['report', '--db', path.join(tempDir(), 'none.db')])).toMatchObject({ code: 1, stderr: expect.stringContaining('there is no Portent database at') });
  });
});

describe('the report settings', () => {
  it('refuses a report time that is not a time of day, keeping the old one', async () => {
    const db = path.join(tempDir(), 'portent.db');
    expect(await cli(['config', 'set', 'report.dailyAt', '07:30', '--db', db])).toMatchObject({ code: 0, stdout: 'report.dailyAt = "07:30"\n' });
    const bad = await cli(['config', 'set', 'report.dailyAt', '25:00', '--db', db]);
    expect(bad).toMatchObject({ code: 1, stderr: 'portent config: report.dailyAt must be a time of day as HH:MM (24-hour); got "25:00". The previous value stays: "07:30"\n' });
    expect(await cli(['config', 'set', 'report.smtp.to', 'ops@example.net, nobody', '--db', db])).toMatchObject({ code: 1, stderr: expect.stringContaining('report.smtp.to must be e-mail addresses separated by commas') });
  });

  it('never shows the SMTP password: masked by config and by the window\'s API, and an unchanged mask keeps it', async () => {
    const db = path.join(tempDir(), 'portent.db');
    const secret = 'hunter2-is-not-a-password';
    expect(await cli(['config', 'set', 'report.smtp.password', secret, '--db', db])).toMatchObject({ code: 0, stdout: `report.smtp.password = "${SECRET_MASK}"\n` });
    expect((await cli(['config', 'get', 'report.smtp.password', '--db', db])).stdout).toBe(`"${SECRET_MASK}"\n`);
    for (const args of [['config', 'get', '--db', db], ['config', 'get', '--json', '--db', db]]) expect((await cli(args)).stdout).not.toContain(secret);
    const tooLong = await cli(['config', 'set', 'report.smtp.password', 'x'.repeat(2000), '--db', db]);
    expect(tooLong.stderr).toBe(`portent config: report.smtp.password must be at most 1024 characters; the value is not shown. The previous value stays: "${SECRET_MASK}"\n`);

    const handle = openDatabase(db);
    try {
      const api = createEngineApi(new TestHost(handle));
      const view = await api.getSettings();
      expect(view.values['report.smtp.password']).toBe(SECRET_MASK);
      expect(JSON.stringify(view)).not.toContain(secret);
      expect(await api.setSetting('report.smtp.password', SECRET_MASK)).toEqual({ ok: true, value: SECRET_MASK });
      expect(new SettingsStore(handle).get('report.smtp.password')).toBe(secret);
      expect(await api.setSetting('report.smtp.password', 'new-one')).toEqual({ ok: true, value: SECRET_MASK });
      expect(new SettingsStore(handle).get('report.smtp.password')).toBe('new-one');
    } finally {
      handle.close();
    }
  });
});
