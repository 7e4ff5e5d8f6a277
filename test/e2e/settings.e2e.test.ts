import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, explainFailure, openOverview, type ServeChild, SHOTS, startServe, stopServe, until } from '../support/e2e';
import { openDatabase } from '../../src/main/engine/store/database';
import { repoRoot, runCli } from '../support/cli';

/**
 * The settings view in Debian's Chromium against the real `portent serve`: settings grouped and
 * worded for a person, with units and fitting inputs; the interfaces to capture on as the engine
 * lists them; the database's size beside its cap; a stored value that is garbage (written
 * straight into the table) shown as such; an interface the machine lacks refused with the same
 * message as `config set`, the old value kept.
 */

describe.runIf(process.platform === 'linux' && fs.existsSync(CHROMIUM))('the settings view', () => {
  let dir: string;
  let file: string;
  let child: ServeChild;
  let base: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const stored = (key: string) => runCli(['config', 'get', key, '--json', '--db', file]).stdout.trim();
  const row = (p: Page, key: string) => p.locator(`[data-setting="${key}"]`);
  const openSettings = async (p: Page) => {
    await p.getByRole('navigation').getByRole('link', { name: /^Settings/ }).click();
    await p.getByRole('heading', { name: 'Settings', level: 2 }).waitFor();
  };

  beforeAll(async () => {
    if (!fs.existsSync(path.join(repoRoot, 'out', 'renderer', 'index.html'))) throw new Error('out/renderer is missing: run `npx electron-vite build` before this test');
    fs.mkdirSync(SHOTS, { recursive: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-settings-e2e-'));
    file = path.join(dir, 'portent.db');
    const db = openDatabase(file);
    // Garbage, as a hand edit or a newer Portent could leave it.
    db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('retention.flowsDays', '\"lots\"', 1)").run();
    db.close();
    ({ child, base } = await startServe(file, ['--detect-every', '60']));
    ({ browser, page } = await openOverview(base, pageErrors));
    await openSettings(page);
  }, 120_000);

  afterEach((ctx) => explainFailure(ctx, page, 'settings'));

  afterAll(async () => {
    await browser?.close();
    await stopServe(child);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('groups the settings under headings, in words, with units and fitting inputs', async () => {
    for (const title of ['Alerts', 'Capture', 'History and storage', 'Detection']) await page.getByRole('group', { name: title }).waitFor();
    const history = page.getByRole('group', { name: 'History and storage' });
    const keep = history.getByLabel('Keep port history for', { exact: true });
    expect(await keep.inputValue()).toBe('30');
    expect(await keep.getAttribute('type')).toBe('number');
    expect(await row(page, 'retention.roundPortsDays').locator('.unit').innerText()).toBe('days');
    expect(await row(page, 'detection.learningHours').locator('.unit').innerText()).toBe('hours');
    // A toggle for on/off, a time of day for a time, a choice in words for the schedule.
    expect(await page.getByRole('switch', { name: 'Record network traffic' }).isChecked()).toBe(true);
    expect(await history.getByLabel('Clean up old history every day at', { exact: true }).getAttribute('type')).toBe('time');
    expect(await page.getByLabel('Look for anomalies every', { exact: true }).locator('option:checked').innerText()).toBe('1 hour');
    // Keys are there for the command line, not as labels.
    expect(await page.getByText('retention.roundPortsDays', { exact: true }).count()).toBe(1);
  });

  it('shows the database size beside its cap', async () => {
    const cap = row(page, 'retention.maxDatabaseMb');
    expect(await cap.getByLabel('Limit the database to', { exact: true }).inputValue()).toBe('2048');
    expect(await cap.locator('.unit').innerText()).toBe('MB');
    const aside = await cap.locator('.setting-aside').innerText();
    expect(aside).toMatch(/^\d+(\.\d)? (KB|MB) in use now$/);
    expect(Number.parseFloat(aside)).toBeGreaterThan(0);
  });

  it('offers the interfaces the engine lists for this machine', async () => {
    const listed = runCli(['interfaces', '--json']);
    expect(listed.status, listed.stderr).toBe(0);
    const names = (JSON.parse(listed.stdout) as { interfaces: { name: string }[] }).interfaces.map((i) => i.name);
    const select = page.getByLabel('Capture on', { exact: true });
    const values = await select.locator('option').evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value));
    expect(values.slice(0, -1)).toEqual(['', ...names]);
    expect(await select.locator('option').last().innerText()).toBe('Another name…');
  });

  it('shows a garbage stored value as such, with the default used in its place and why', async () => {
    const flows = row(page, 'retention.flowsDays');
    expect(await flows.getByLabel('Keep connection history for', { exact: true }).inputValue()).toBe('30');
    const notice = await flows.locator('.setting-problem').innerText();
    expect(notice).toContain('The stored value "lots" cannot be used');
    expect(notice).toContain('retention.flowsDays must be a whole number of days from 1 to 3650; got "lots"; the default, 30, is used in its place');
    await page.getByRole('alert').filter({ hasText: '1 stored setting cannot be used, so its default applies; see “Keep connection history for” below.' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'settings-light.png'), fullPage: true });
  });

  it('refuses an interface the machine lacks with the message `config set` gives, keeping the old value', async () => {
    const other = path.join(dir, 'other.db');
    const cli = runCli(['config', 'set', 'capture.interface', 'eth9', '--db', other]);
    expect(cli.status).toBe(1);
    const message = /^portent config: (.*)\. The previous value stays/.exec(cli.stderr)?.[1];
    expect(message).toMatch(/got "eth9"$/);

    const capture = row(page, 'capture.interface');
    await capture.getByLabel('Capture on', { exact: true }).selectOption({ label: 'Another name…' });
    await capture.getByLabel('Interface name', { exact: true }).fill('eth9');
    await capture.getByRole('button', { name: 'Save: Capture on' }).click();
    const alert = capture.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toBe(`${message}. The previous value stays: empty`);
    expect(stored('capture.interface')).toBe('""');

    await capture.getByLabel('Capture on', { exact: true }).selectOption('lo');
    await until('lo stored', () => stored('capture.interface') === '"lo"');
    await capture.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
  });

  it('checks a number before sending it, saves a valid one, and saves a time of day', async () => {
    const packets = page.getByLabel('Keep packet headers for', { exact: true });
    await packets.fill('0');
    await page.getByRole('alert').filter({ hasText: 'retention.packetsDays must be a whole number of days from 1 to 3650' }).waitFor();
    expect(await page.getByRole('button', { name: 'Save: Keep packet headers for' }).isDisabled()).toBe(true);
    await packets.fill('14');
    await page.getByRole('button', { name: 'Save: Keep packet headers for' }).click();
    await until('14 days stored', () => stored('retention.packetsDays') === '14');

    await page.getByLabel('Clean up old history every day at', { exact: true }).fill('04:15');
    await page.getByRole('button', { name: 'Save: Clean up old history every day at' }).click();
    await until('04:15 stored', () => stored('schedule.cleanupAt') === '"04:15"');
  });

  it('reads as well in a dark theme', async () => {
    const dark = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
    dark.on('pageerror', (err) => pageErrors.push(err.message));
    await dark.goto(base);
    await dark.getByRole('heading', { name: 'Overview' }).waitFor();
    await openSettings(dark);
    await row(dark, 'retention.flowsDays').locator('.setting-problem').waitFor();
    expect(await dark.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(21, 23, 26)');
    await dark.screenshot({ path: path.join(SHOTS, 'settings-dark.png'), fullPage: true });
    await dark.close();
    expect(pageErrors).toEqual([]);
  });
});
