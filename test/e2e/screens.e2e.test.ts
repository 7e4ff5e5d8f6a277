import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, explainFailure, LAUNCH_ARGS, type ServeChild, SHOTS, startServe, stopServe, until } from '../support/e2e';
import { repoRoot } from '../support/cli';
import { openDatabase } from '../../src/main/engine/store/database';
import { reportFile } from '../../src/main/engine/report/reportFiles';
import { DAY, PERIOD, seedDay } from '../main/engine/report/seedDay';
import { MIN, seed, type Seeded } from './trafficFixture';

/**
 * Every view of the window, light and dark, at 1280x800 and at a narrow 800x600, photographed in
 * Debian's Chromium against the real `portent serve` on real databases: the traffic fixture (an
 * hour of rounds and three incidents) and the report's seeded day (connections and a report).
 * The pictures land in test-output/e2e/screens/ (named in README). Each view is also checked
 * where a picture alone would not fail: nothing wider than the window, the incident's story in
 * order, and keyboard focus drawn.
 */
const SCREENS = path.join(SHOTS, 'screens');
const SIZES = [
  { width: 1280, height: 800 },
  { width: 800, height: 600 },
] as const;
const SCHEMES = ['light', 'dark'] as const;

type Db = 'traffic' | 'day';
interface View {
  name: string;
  db: Db;
  href: (s: Seeded) => string;
  /** Resolves once the view shows its data. */
  ready: (page: Page, s: Seeded) => Promise<unknown>;
}

const main = (page: Page) => page.getByRole('main');
const VIEWS: View[] = [
  { name: 'overview', db: 'traffic', href: () => '#/', ready: (p) => main(p).getByText('Running', { exact: true }).waitFor() },
  { name: 'anomalies', db: 'traffic', href: () => '#/incidents', ready: (p, s) => p.locator(`a.incident-row[href="#/incidents/${s.port}"]`).waitFor() },
  {
    name: 'incident-port',
    db: 'traffic',
    href: (s) => `#/incidents/${s.port}`,
    ready: (p) => p.getByRole('article').getByRole('table', { name: 'Contributing ports' }).waitFor(),
  },
  {
    name: 'incident-traffic',
    db: 'traffic',
    href: (s) => `#/incidents/${s.beacon}`,
    ready: (p) => p.getByRole('article').getByRole('table', { name: 'Remote ends' }).waitFor(),
  },
  { name: 'port-history', db: 'traffic', href: () => '#/ports?last=fit', ready: (p) => p.locator('canvas.timeline-canvas').waitFor() },
  {
    name: 'port-detail',
    db: 'traffic',
    href: () => '#/ports/tcp/8080?last=fit',
    ready: (p) => p.getByRole('article').getByRole('heading', { name: 'Port 8080/tcp' }).waitFor(),
  },
  {
    name: 'connections',
    db: 'day',
    href: () => `#/connections?from=${PERIOD.from}&to=${PERIOD.from + 6 * 60 * MIN}`,
    ready: (p) => p.getByRole('row').filter({ hasText: '93.184.216.34' }).first().waitFor(),
  },
  { name: 'detection', db: 'traffic', href: () => '#/detection', ready: (p) => p.getByRole('list', { name: /Detection runs/ }).getByRole('listitem').first().waitFor() },
  { name: 'settings', db: 'traffic', href: () => '#/settings', ready: (p) => main(p).locator('fieldset').first().waitFor() },
  { name: 'report', db: 'day', href: () => `#/report/${DAY}`, ready: (p) => p.getByRole('article', { name: `Daily report of ${DAY}` }).waitFor() },
];

/** How far the page is wider than the window, in CSS pixels (0 when nothing spills sideways). */
const overflow = (page: Page) => page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as Promise<number>;

describe.runIf(process.platform === 'linux' && fs.existsSync(CHROMIUM))('screenshots of every view', () => {
  let dir: string;
  let seeded: Seeded;
  const servers: Record<Db, { child: ServeChild; base: string } | undefined> = { traffic: undefined, day: undefined };
  let browser: Browser;
  let page: Page | undefined;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(path.join(repoRoot, 'out', 'renderer', 'index.html'))) throw new Error('out/renderer is missing: run `npx electron-vite build` before this test');
    fs.rmSync(SCREENS, { recursive: true, force: true });
    fs.mkdirSync(SCREENS, { recursive: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-screens-e2e-'));
    const trafficDb = path.join(dir, 'traffic.db');
    seeded = seed(trafficDb, Math.floor(Date.now() / MIN) * MIN);
    const dayDb = path.join(dir, 'day.db');
    const db = openDatabase(dayDb);
    seedDay(db);
    db.close();
    servers.traffic = await startServe(trafficDb);
    servers.day = await startServe(dayDb);
    // The seeded day's report time passed long ago: the monitor makes it up at its start.
    await until('the made-up report', () => fs.existsSync(reportFile(dayDb, DAY, 'json')));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  }, 180_000);

  afterEach((ctx) => explainFailure(ctx, page, 'screens'));

  afterAll(async () => {
    await browser?.close();
    await stopServe(servers.traffic?.child);
    await stopServe(servers.day?.child);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const scheme of SCHEMES) {
    for (const size of SIZES) {
      it(`photographs every view, ${scheme}, ${size.width}x${size.height}, nothing wider than the window`, async () => {
        const pages: Partial<Record<Db, Page>> = {};
        try {
          const wide: string[] = [];
          for (const view of VIEWS) {
            let p = pages[view.db];
            if (!p) {
              // A tab per server: each keeps its own token once it has opened the address with it.
              p = await browser.newPage({ viewport: size, colorScheme: scheme });
              p.on('pageerror', (err) => pageErrors.push(`${view.name}: ${err.message}`));
              await p.goto(servers[view.db]!.base);
              await p.getByRole('heading', { name: 'Overview' }).waitFor();
              pages[view.db] = p;
            }
            page = p;
            await p.goto(`${new URL(servers[view.db]!.base).origin}/${view.href(seeded)}`);
            await view.ready(p, seeded);
            // Charts draw on the next frames.
            await p.waitForTimeout(400);
            const spill = await overflow(p);
            if (spill > 0) wide.push(`${view.name} by ${spill}px`);
            await p.screenshot({ path: path.join(SCREENS, `${view.name}-${scheme}-${size.width}.png`), fullPage: true });
          }
          expect(wide).toEqual([]);
          expect(pageErrors).toEqual([]);
        } finally {
          for (const p of Object.values(pages)) await p.close();
          page = undefined;
        }
      }, 180_000);
    }
  }

  it('has written every picture README lists', () => {
    const names = VIEWS.flatMap((v) => SCHEMES.flatMap((s) => SIZES.map((z) => `${v.name}-${s}-${z.width}.png`)));
    expect(fs.readdirSync(SCREENS).sort()).toEqual(names.sort());
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    for (const v of VIEWS) expect(readme).toContain(`${v.name}-{light,dark}-{1280,800}.png`);
  });

  it('resolves the palette the tray icons are drawn in, light and dark', async () => {
    const palette = JSON.parse(fs.readFileSync(path.join(repoRoot, 'assets', 'palette.json'), 'utf8')) as {
      state: Record<string, Record<'light' | 'dark', string>>;
      surface: Record<'light' | 'dark', Record<string, string>>;
    };
    for (const scheme of SCHEMES) {
      page = await browser.newPage({ viewport: SIZES[1], colorScheme: scheme });
      try {
        await page.goto(servers.traffic!.base);
        await page.getByRole('heading', { name: 'Overview' }).waitFor();
        const expected: Record<string, string> = { ...palette.surface[scheme] };
        for (const [state, colours] of Object.entries(palette.state)) expected[`state-${state}`] = colours[scheme];
        const names = JSON.stringify(Object.keys(expected).map((n) => `--${n}`));
        const resolved = (await page.evaluate(`(() => { const s = getComputedStyle(document.documentElement); return ${names}.map((n) => s.getPropertyValue(n).trim()); })()`)) as string[];
        // The built stylesheet may shorten #ffffff to #fff.
        const full = (hex = '') => (/^#[0-9a-f]{3}$/i.test(hex) ? `#${[...hex.slice(1)].map((c) => c + c).join('')}` : hex).toLowerCase();
        expect(Object.fromEntries(Object.keys(expected).map((n, i) => [n, full(resolved[i])])), scheme).toEqual(expected);
      } finally {
        await page.close();
        page = undefined;
      }
    }
  });

  it("tells an incident's story in order, and draws keyboard focus", async () => {
    page = await browser.newPage({ viewport: SIZES[1], colorScheme: 'light' });
    try {
      const origin = new URL(servers.traffic!.base).origin;
      await page.goto(servers.traffic!.base);
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      const chapters = async (id: number) => {
        await page!.goto(`${origin}/#/incidents/${id}`);
        const article = page!.getByRole('article');
        await article.getByRole('heading', { name: 'What you can do' }).waitFor();
        return article.locator('h4').allInnerTexts();
      };
      expect(await chapters(seeded.port)).toEqual(['What happened', 'Which ports and processes', 'Compared with what is normal', 'What you can do', 'Traffic at the time']);
      expect(await chapters(seeded.beacon)).toEqual(['What happened', 'Which program, and its remote ends', 'Compared with what is normal', 'What you can do', 'Traffic at the time']);
      expect(await page.getByRole('article').locator('.compared').innerText()).toBe(
        'Its most unusual window of traffic scored 14.2 against a threshold of 9: 1.6 times the highest score the model still takes for normal.',
      );
      // Focus is drawn: the skip link, then the first place of the navigation, each with the ring.
      await page.goto(`${origin}/#/`);
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      for (let i = 0; i < 2; i++) {
        await page.keyboard.press('Tab');
        const ring = (await page.evaluate('(() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; })()')) as string[];
        expect(ring).toEqual(['solid', '3px']);
      }
    } finally {
      await page.close();
      page = undefined;
    }
  }, 60_000);
});
