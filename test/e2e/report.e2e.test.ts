import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, explainFailure, LAUNCH_ARGS, openOverview, type ServeChild, SHOTS, startServe, stopServe, until } from '../support/e2e';
import { repoRoot, runCli } from '../support/cli';
import os from 'node:os';
import { openDatabase } from '../../src/main/engine/store/database';
import { reportFile } from '../../src/main/engine/report/reportFiles';
import { DAY, seedDay } from '../main/engine/report/seedDay';

/**
 * The daily report in Debian's Chromium: the window's Report view against the real `portent
 * serve` (whose monitor makes up the report of the seeded day at its start), and the report's
 * HTML file opened on its own, which must load nothing from anywhere.
 */

describe.runIf(process.platform === 'linux' && fs.existsSync(CHROMIUM))('the daily report in a browser', () => {
  let dir: string;
  let file: string;
  let child: ServeChild;
  let base: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(path.join(repoRoot, 'out', 'renderer', 'index.html'))) throw new Error('out/renderer is missing: run `npx electron-vite build` before this test');
    fs.mkdirSync(SHOTS, { recursive: true });
    // A folder of its own: the test's temporary folders go after each test, this one after all.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-report-e2e-'));
    file = path.join(dir, 'portent.db');
    const db = openDatabase(file);
    seedDay(db);
    db.close();
    ({ child, base } = await startServe(file));
    // The seeded day's report time passed long before this start: the monitor makes it up.
    await until('the made-up report', () => fs.existsSync(reportFile(file, DAY, 'json')));
    ({ browser, page } = await openOverview(base, pageErrors));
  }, 120_000);

  afterEach((ctx) => explainFailure(ctx, page, 'report'));

  afterAll(async () => {
    await browser?.close();
    await stopServe(child);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows the report of a day in the window, opened from the nav, with every section and its values', async () => {
    await page.getByRole('navigation', { name: 'Portent' }).getByRole('link', { name: 'Daily report' }).click();
    await page.getByRole('navigation', { name: 'Reports by day' }).getByRole('link', { name: DAY }).click();
    expect(new URL(page.url()).hash).toBe(`#/report/${DAY}`);
    const report = page.getByRole('article', { name: `Daily report of ${DAY}` });
    await report.waitFor();
    expect(await page.getByRole('heading', { level: 2 }).innerText()).toBe(`Daily report of ${DAY}`);
    const text = await report.innerText();
    expect(text).toContain('3 incidents, 3 new listeners, 2 new programs talking out; 4 remote ends contacted for the first time.');
    expect(text).toContain('Port 4444/tcp started listening: nc, never seen before.');
    expect(text).toMatch(/4444\/tcp\s+2026-11-20 10:05\s+nc\s+\/usr\/bin\/nc\s+ann\s+4242/);
    expect(text).toMatch(/bash\s+\/usr\/bin\/bash\s+2026-11-20 10:06\s+203\.0\.113\.9:4444/);
    expect(text).toMatch(/93\.184\.216\.34:443 \(example\.com\)\s+1000 B\s+49 KB\s+firefox/);
    expect(text).toContain('50 rounds recorded, capture off for 5 min; monitor not recording for 23 h 10 min; 3150 packets seen, 2 packets dropped by the kernel.');
    expect(text).toContain('Ready: model version 2 on wasm, threshold 0.0420, 400 rounds seen; 3 detections (1 failed), 1 refit.');
    // The charts are drawn, not empty boxes: bars for the two hours recorded.
    const bars = await report.locator('svg[aria-label^="Traffic per hour"] rect.bar').evaluateAll((rects) => rects.filter((r) => r.getBoundingClientRect().height > 0).length);
    expect(bars).toBe(2);
    expect(await report.locator('svg[aria-label="Busiest programs by bytes"] rect.bar').count()).toBe(4);
    // An incident links to its detail.
    expect(await report.getByRole('link', { name: 'Port 4444/tcp started listening: nc, never seen before.' }).getAttribute('href')).toMatch(/^#\/incidents\/\d+$/);
    await page.screenshot({ path: path.join(SHOTS, 'report-view.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('renders the HTML file on its own with its inline charts, loading nothing over the network', async () => {
    const html = reportFile(file, DAY, 'html');
    const own = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    try {
      const p = await own.newPage({ viewport: { width: 900, height: 900 }, colorScheme: 'light' });
      const requests: string[] = [];
      p.on('request', (r) => requests.push(r.url()));
      await p.goto(`file://${html}`);
      expect(await p.title()).toMatch(new RegExp(`^Portent daily report: .+, ${DAY}$`));
      expect(await p.getByRole('heading', { level: 2 }).allInnerTexts()).toEqual([
        'Activity', 'Incidents', 'Ports opened for the first time', 'Programs listening for the first time', 'Programs talking out for the first time',
        'Busiest programs', 'Busiest remote ends', 'Capture', 'Model', 'Database',
      ]);
      const body = await p.locator('body').innerText();
      expect(body).toContain('3 incidents, 3 new listeners, 2 new programs talking out');
      expect(body).toContain('curl');
      const box = await p.locator('svg[aria-label^="Traffic per hour"]').boundingBox();
      expect(box?.width).toBeGreaterThan(600);
      expect(box?.height).toBeGreaterThan(100);
      expect(await p.locator('svg[aria-label^="Traffic per hour"] circle.incident').count()).toBe(1);
      await p.screenshot({ path: path.join(SHOTS, 'report-html.png'), fullPage: true });
      expect(requests).toEqual([`file://${html}`]);
    } finally {
      await own.close();
    }
  });

  it('is the same report `portent report` prints for that day', () => {
    const r = runCli(['report', '--day', DAY, '--format', 'json', '--db', file]);
    expect(r.status, r.stderr).toBe(0);
    const kept = JSON.parse(fs.readFileSync(reportFile(file, DAY, 'json'), 'utf8')) as unknown;
    expect(JSON.parse(r.stdout)).toEqual(kept);
  });
});
