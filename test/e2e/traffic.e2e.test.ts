import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, explainFailure, openOverview, type ServeChild, SHOTS, startServe, stopServe } from '../support/e2e';
import { MIN, seed, type Seeded } from './trafficFixture';
import { repoRoot } from '../support/cli';

/**
 * Traffic incidents in the window, in Debian's Chromium against the real `portent serve` on a
 * database written through the engine's stores: an hour of one-minute rounds in which nc and
 * python3 run, then three incidents: a port incident (8080/tcp), a beacon of nc to a host no
 * program here ever talked to (the traffic model's alone), and python3 opening 8000/tcp while it
 * sends 52 MB to a new host (one incident telling both stories). The list labels the kinds; each
 * detail shows who the program talked to and what made it stand out, in words.
 */
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

/** The text of each row of a table, cells joined by " | ". */
async function rowsOf(table: Locator): Promise<string[]> {
  return table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim()).join(' | ')));
}

describe.runIf(process.platform === 'linux' && fs.existsSync(CHROMIUM))('traffic incidents in the window', () => {
  let dir: string;
  let file: string;
  let child: ServeChild;
  let browser: Browser;
  let page: Page;
  let seeded: Seeded;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(path.join(repoRoot, 'out', 'renderer', 'index.html'))) throw new Error('out/renderer is missing: run `npx electron-vite build` before this test');
    fs.mkdirSync(SHOTS, { recursive: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-traffic-e2e-'));
    file = path.join(dir, 'portent.db');
    seeded = seed(file, Math.floor(Date.now() / MIN) * MIN);
    let base: string;
    ({ child, base } = await startServe(file, ['--detect-every', '60']));
    ({ browser, page } = await openOverview(base, pageErrors));
  }, 120_000);

  afterEach((ctx) => explainFailure(ctx, page, 'traffic'));

  afterAll(async () => {
    await browser?.close();
    await stopServe(child);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('labels traffic incidents in the list, and port incidents not', async () => {
    await page.getByRole('navigation').getByRole('link', { name: /^Anomalies/ }).click();
    const row = (id: number) => page.locator(`a.incident-row[href="#/incidents/${id}"]`);
    await row(seeded.both).waitFor({ timeout: 15_000 });
    expect(await row(seeded.beacon).locator('.tag.kind').innerText()).toBe('traffic');
    expect(await row(seeded.both).locator('.tag.kind').innerText()).toBe('ports and traffic');
    expect(await row(seeded.port).locator('.tag.kind').count()).toBe(0);
  }, 60_000);

  it("shows a traffic incident's remote ends and, in words, the features that made it stand out", async () => {
    await page.locator(`a.incident-row[href="#/incidents/${seeded.beacon}"]`).click();
    const detail = page.getByRole('article');
    await detail.getByRole('heading', { name: `Incident ${seeded.beacon}` }).waitFor({ timeout: 15_000 });
    await detail.getByRole('heading', { name: 'Who it talked to' }).waitFor();
    expect(await detail.locator('.facts').innerText()).toMatch(/About\s+traffic: beaconing[\s\S]*Program\s+nc \(user portent-test\)\s+\/usr\/bin\/nc/);
    // A traffic incident has no ports to show.
    expect(await detail.getByRole('table', { name: 'Contributing ports' }).count()).toBe(0);

    const ends = await rowsOf(detail.getByRole('table', { name: 'Remote ends' }));
    expect(ends).toHaveLength(2);
    expect(ends[0]).toMatch(/^c2\.example\s*203\.0\.113\.7:4444 tcp \| outgoing \| new for every program \| 10 \| 4\.7 KB \| 1\.2 KB \| every 60 s \| \S/);
    expect(ends[0]).not.toMatch(/\| –$/); // held since a time
    expect(ends[1]).toMatch(/^198\.51\.100\.20:53 udp \| outgoing \| new for this program \| 10 \| 900 B \| 1\.8 KB \| – \| –$/);

    await detail.getByRole('heading', { name: 'What made it stand out' }).waitFor();
    const features = await rowsOf(detail.getByRole('table', { name: 'Features by their share of the explanation' }));
    expect(features).toEqual([
      'regular beat (beaconing) | 55% | 0.93 | 0.04',
      'share of hosts new to this program | 25% | 100 % | 8 %',
      'its usual bytes sent | 12% | 0 B | 2.5 KB',
    ]);
    // The bars follow the shares: the first is the widest.
    const widths = await detail.locator('[data-feature] .share').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width));
    expect(widths[0]!).toBeGreaterThan(widths[1]!);
    expect(widths[1]!).toBeGreaterThan(widths[2]!);
    // Its chart is nc's traffic windows on the traffic model's scale, not the port model's rounds.
    await detail.getByRole('heading', { name: "Score of nc's traffic, window by window" }).waitFor();
    const chart = detail.getByRole('img', { name: /traffic windows \(ten rounds each\)/ });
    await expect.poll(async () => (await chart.getAttribute('data-y-ticks'))?.split('|').map(Number).at(-1) ?? 0).toBeGreaterThanOrEqual(14);
    expect(await detail.locator('.chart-legend').first().innerText()).toMatch(/Score\s+4\.5\s+Threshold\s+9$/);
    // Its traffic at the time is its program's, and says so.
    await detail.getByRole('heading', { name: 'Flows of nc during the incident, and those to its remote ends no program was named for' }).waitFor();
    await detail.getByRole('heading', { name: "DNS names of nc's lookups and remote ends" }).waitFor();
    await detail.getByText('No flows of nc or to its remote ends were recorded in these rounds (packet capture may be off).').waitFor();
    await shot(page, 'incident-traffic');
  }, 60_000);

  it("shows a 'both' incident's ports and its traffic together", async () => {
    await page.locator(`a.incident-row[href="#/incidents/${seeded.both}"]`).click();
    const detail = page.getByRole('article');
    await detail.getByRole('heading', { name: `Incident ${seeded.both}` }).waitFor({ timeout: 15_000 });
    await detail.getByRole('heading', { name: 'Who it talked to' }).waitFor();
    expect(await detail.locator('.facts').innerText()).toMatch(/About\s+listening ports and traffic: unusual volume sent/);
    const ports = await rowsOf(detail.getByRole('table', { name: 'Contributing ports' }));
    expect(ports).toHaveLength(1);
    expect(ports[0]).toMatch(/^8000\/tcp \| appeared \| python3 \(pid 5151\)/);
    const ends = await rowsOf(detail.getByRole('table', { name: 'Remote ends' }));
    expect(ends).toEqual([expect.stringMatching(/^drop\.example\s*192\.0\.2\.50:8443 tcp \| outgoing \| new for this program \| 3 \| 50 MB \| 3\.9 KB \| – \| –$/)]);
    const features = await rowsOf(detail.getByRole('table', { name: 'Features by their share of the explanation' }));
    // In units: the stored values are on the model's scale.
    expect(features).toEqual(['bytes sent | 61% | 50 MB | 146 KB', 'randomness of DNS names | 18% | 3.7 bits | 1.8 bits']);
    await shot(page, 'incident-both');

    // A port incident stays as it was: ports, no traffic sections.
    await page.locator(`a.incident-row[href="#/incidents/${seeded.port}"]`).click();
    await detail.getByRole('heading', { name: `Incident ${seeded.port}` }).waitFor({ timeout: 15_000 });
    await detail.getByRole('table', { name: 'Contributing ports' }).waitFor();
    await detail.getByRole('heading', { name: 'Flows during the incident', exact: true }).waitFor();
    expect(await detail.getByRole('heading', { name: 'Who it talked to' }).count()).toBe(0);
    expect(await detail.getByRole('heading', { name: 'What made it stand out' }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
