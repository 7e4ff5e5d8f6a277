import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, explainFailure, openOverview, type ServeChild, SHOTS, startServe, stopServe } from '../support/e2e';
import { openDatabase } from '../../src/main/engine/store/database';
import { ActionStore } from '../../src/main/engine/store/actionStore';
import { repoRoot } from '../support/cli';
import { alive, endChildren, sleeper } from '../main/engine/actions/support';

/**
 * An incident's actions in Debian's Chromium against the real `portent serve`: its processes
 * with their executables and ports; stopping one after a confirmation that names it (a real
 * process this test started, which ends on SIGTERM), and a reused pid refused; copying the
 * incident as text and JSON; "expected from now on" making a rule that Settings lists and
 * deletes. Screenshot: test-output/e2e/incident-actions.png (the confirmation).
 */

describe.runIf(process.platform === 'linux' && fs.existsSync(CHROMIUM))("an incident's actions in the window", () => {
  let dir: string;
  let file: string;
  let child: ServeChild;
  let browser: Browser;
  let page: Page;
  let target: Awaited<ReturnType<typeof sleeper>>;
  let reused: Awaited<ReturnType<typeof sleeper>>;
  const pageErrors: string[] = [];
  const readDb = <T,>(f: (db: ReturnType<typeof openDatabase>) => T): T => {
    const db = openDatabase(file);
    try {
      return f(db);
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    if (!fs.existsSync(path.join(repoRoot, 'out', 'renderer', 'index.html'))) throw new Error('out/renderer is missing: run `npx electron-vite build` before this test');
    fs.mkdirSync(SHOTS, { recursive: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portent-actions-e2e-'));
    file = path.join(dir, 'portent.db');
    target = await sleeper();
    reused = await sleeper();
    const db = openDatabase(file);
    const now = Date.now();
    db.prepare("INSERT INTO rounds (id, started_at, host, status) VALUES (1, ?, 'h', 'ok'), (2, ?, 'h', 'ok')").run(now - 600_000, now - 120_000);
    // Its cause was there ten minutes ago, went, and came back two minutes ago: two episodes.
    db.prepare(
      `INSERT INTO incidents (id, start_round_id, end_round_id, started_at, ended_at, rounds, peak_score, threshold, sentence)
       VALUES (1, 1, 1, ?, ?, 1, 9.5, 4.2, 'Port 4444/tcp started listening: /usr/bin/sleep (pid ${target.live.pid}), never seen before; port 4445/tcp started listening: /usr/bin/sleep (pid ${reused.live.pid}), never seen before.')`,
    ).run(now - 600_000, now - 600_000);
    db.prepare('INSERT INTO incident_episodes (incident_id, started_at, ended_at) VALUES (1, ?, ?)').run(now - 120_000, now - 120_000);
    db.prepare('UPDATE incidents SET end_round_id = 2, ended_at = ?, rounds = 2 WHERE id = 1').run(now - 120_000);
    const port = db.prepare("INSERT INTO incident_ports (incident_id, rank, proto, port, direction, share, expected, process, exe, pid) VALUES (1, ?, 'tcp', ?, 'appeared', 0.5, 0, 'sleep', '/usr/bin/sleep', ?)");
    port.run(0, 4444, target.live.pid);
    port.run(1, 4445, reused.live.pid);
    new ActionStore(db).recordProcesses(1, [{ pid: target.live.pid, exe: '/usr/bin/sleep', name: 'sleep', seenAt: now }]);
    // The incident saw another process at the second pid: one that started earlier (its start
    // time is not the one the pid has now), as when a process ends and its pid is given again.
    db.prepare("INSERT INTO incident_processes (incident_id, pid, start_ticks, exe, name, uid, recorded_at) VALUES (1, ?, ?, '/usr/bin/sleep', 'sleep', ?, ?)").run(
      reused.live.pid, reused.live.startTicks - 1, process.getuid!(), now,
    );
    db.close();
    let base: string;
    ({ child, base } = await startServe(file, ['--detect-every', '60']));
    ({ browser, page } = await openOverview(base, pageErrors));
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(base).origin });
    await page.getByRole('navigation').getByRole('link', { name: /^Anomalies/ }).click();
    await page.locator('a.incident-row[href="#/incidents/1"]').click();
    await page.getByRole('article').getByRole('heading', { name: 'Incident 1' }).waitFor({ timeout: 15_000 });
  }, 120_000);

  afterEach((ctx) => explainFailure(ctx, page, 'incident-actions'));

  afterAll(async () => {
    await browser?.close();
    await stopServe(child);
    endChildren();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const actions = () => page.getByRole('region', { name: 'What you can do' });

  it('says when its cause came back after a pause', async () => {
    const back = page.getByRole('article').getByRole('list', { name: 'When it came back' });
    // count() does not wait: wait for the detail to show the list first.
    await back.getByRole('listitem').first().waitFor({ timeout: 15_000 });
    expect(await back.getByRole('listitem').count()).toBe(1);
    expect(await page.getByRole('article').locator('dl.facts').innerText()).toMatch(/Came back\s+1 time after a pause, the same cause, not told again \(2 rounds in all\)/);
  }, 30_000);

  it("lists the incident's processes with their executables and ports", async () => {
    const table = actions().getByRole('table', { name: "The incident's processes" });
    const row = table.locator(`tr[data-pid="${target.live.pid}"]`);
    expect(await row.innerText()).toMatch(new RegExp(`sleep \\(pid ${target.live.pid}\\)\\s+/usr/bin/sleep\\s+4444/tcp`));
    // The file manager is the desktop app's: not offered on the served page.
    expect(await actions().getByRole('button', { name: 'Show in file manager' }).count()).toBe(0);
  }, 30_000);

  it('copies the incident as text and as JSON', async () => {
    await actions().getByRole('button', { name: 'Copy as text' }).click();
    await actions().getByRole('status').filter({ hasText: 'Copied the incident as text.' }).waitFor();
    const text = (await page.evaluate('navigator.clipboard.readText()')) as string;
    expect(text).toMatch(/^Portent incident 1 \[(new|seen)\]\nPort 4444\/tcp started listening/);
    expect(text).toContain(`sleep (pid ${target.live.pid}) /usr/bin/sleep, uid ${process.getuid!()}, ports 4444/tcp`);
    await actions().getByRole('button', { name: 'Copy as JSON' }).click();
    await actions().getByRole('status').filter({ hasText: 'Copied the incident as JSON.' }).waitFor();
    const json = JSON.parse((await page.evaluate('navigator.clipboard.readText()')) as string) as { id: number; processes: { pid: number }[] };
    expect(json.id).toBe(1);
    expect(json.processes.map((p) => p.pid).sort()).toEqual([target.live.pid, reused.live.pid].sort());
  }, 30_000);

  it('stops a process only after a confirmation naming it, its executable and its ports, and shows the outcome', async () => {
    await actions().locator(`tr[data-pid="${target.live.pid}"]`).getByRole('button', { name: 'Stop…' }).click();
    const dialog = page.getByRole('dialog', { name: `Stop sleep (pid ${target.live.pid})?` });
    await dialog.waitFor();
    // The grace period comes from the settings, read as the dialog opens.
    await dialog.getByText(/after 5 seconds/).waitFor();
    const said = await dialog.innerText();
    expect(said).toContain('/usr/bin/sleep');
    expect(said).toContain('4444/tcp');
    await page.screenshot({ path: path.join(SHOTS, 'incident-actions.png') });
    // Cancel stops nothing.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(alive(target.live.pid)).toBe(true);

    await actions().locator(`tr[data-pid="${target.live.pid}"]`).getByRole('button', { name: 'Stop…' }).click();
    await dialog.getByRole('button', { name: 'Stop the process' }).click();
    await dialog.getByRole('status').filter({ hasText: 'stopped (SIGTERM)' }).waitFor({ timeout: 15_000 });
    expect(await target.exit).toBe('SIGTERM');
    await dialog.getByRole('button', { name: 'Close' }).click();
    const log = actions().getByRole('list', { name: 'What was done' });
    await log.getByText(`stop pid ${target.live.pid}`).waitFor();
    expect(await log.innerText()).toContain('stopped (SIGTERM)');
    expect(readDb((db) => db.prepare('SELECT pid, outcome FROM incident_actions').all())).toEqual([{ pid: target.live.pid, outcome: 'sigterm' }]);
  }, 60_000);

  it('refuses a pid that now belongs to another process, and says why', async () => {
    await actions().locator(`tr[data-pid="${reused.live.pid}"]`).getByRole('button', { name: 'Stop…' }).click();
    const dialog = page.getByRole('dialog', { name: `Stop sleep (pid ${reused.live.pid})?` });
    await dialog.getByRole('button', { name: 'Stop the process' }).click();
    const status = dialog.getByRole('status');
    await status.waitFor({ timeout: 15_000 });
    expect(await status.innerText()).toMatch(new RegExp(`^refused: pid ${reused.live.pid} now belongs to another process`));
    await page.screenshot({ path: path.join(SHOTS, 'incident-actions-refused.png') });
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect(alive(reused.live.pid)).toBe(true);
    expect(await actions().getByRole('list', { name: 'What was done' }).getByRole('listitem').count()).toBe(2);
  }, 60_000);

  it('makes a port expected from now on; Settings lists the rule and deletes it', async () => {
    await actions().getByRole('button', { name: 'Expected from now on…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Expected from now on' });
    expect(await dialog.getByRole('radio').count()).toBe(5);
    await dialog.getByRole('radio', { name: 'port 4445/tcp', exact: true }).check();
    await dialog.getByRole('button', { name: 'Allow from now on' }).click();
    await dialog.getByRole('status').filter({ hasText: 'Rule 1 added' }).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect(readDb((db) => db.prepare('SELECT proto, port, exe, from_incident_id AS fromIncident FROM allow_rules').all())).toEqual([{ proto: 'tcp', port: 4445, exe: null, fromIncident: 1 }]);

    await page.getByRole('navigation').getByRole('link', { name: /^Settings/ }).click();
    const rules = page.getByRole('group', { name: 'Expected from now on' });
    const table = rules.getByRole('table', { name: 'Allow rules' });
    await table.waitFor();
    expect(await table.innerText()).toContain('port 4445/tcp');
    await rules.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'incident-actions-rules.png') });
    await rules.getByRole('button', { name: 'Delete the rule for port 4445/tcp' }).click();
    await rules.getByText('No rules: every port and program can raise an incident.').waitFor();
    expect(readDb((db) => db.prepare('SELECT count(*) FROM allow_rules').pluck().get())).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
