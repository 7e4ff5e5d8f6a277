import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, explainFailure, openOverview, SHOTS, stopServe } from '../support/e2e';
import type { SocketEntry } from '../../src/main/engine/collect/sockets/types';
import { openDatabase } from '../../src/main/engine/store/database';
import { DetectionStore } from '../../src/main/engine/store/detectionStore';
import { RoundStore } from '../../src/main/engine/store/rounds';
import { TrafficStore, type IncidentEndpointRow } from '../../src/main/engine/store/trafficStore';
import { repoRoot, startCli, waitForOutput } from '../support/cli';

/**
 * Traffic incidents in the window, in Debian's Chromium against the real `portent serve` on a
 * database written through the engine's stores: an hour of one-minute rounds in which nc and
 * python3 run, then three incidents: a port incident (8080/tcp), a beacon of nc to a host no
 * program here ever talked to (the traffic model's alone), and python3 opening 8000/tcp while it
 * sends 52 MB to a new host (one incident telling both stories). The list labels the kinds; each
 * detail shows who the program talked to and what made it stand out, in words.
 */
const MIN = 60_000;

function socket(port: number, process: string, pid: number): SocketEntry {
  return { proto: 'tcp', family: 4, address: '0.0.0.0', port, pid, process, exe: `/usr/bin/${process}`, user: 'portent-test' };
}

function endpoint(over: Partial<IncidentEndpointRow>): IncidentEndpointRow {
  return {
    proto: 'tcp', address: '203.0.113.7', port: 4444, direction: 'out', name: null, newForProcess: false, newAnywhere: false,
    firstSeenAt: null, heldSince: null, opened: 1, bytesOut: 0, bytesIn: 0, periodMs: null, ...over,
  };
}

interface Seeded {
  port: number;
  beacon: number;
  both: number;
  beaconAt: number;
}

function seed(file: string, end: number): Seeded {
  const db = openDatabase(file);
  const rounds = new RoundStore(db);
  const first = end - 70 * MIN;
  const ids: number[] = [];
  for (let i = 0; i < 60; i++) {
    const sockets = [socket(22, 'sshd', 800), socket(4445, 'nc', 4242), socket(5000, 'python3', 5151)];
    if (i >= 20) sockets.push(socket(8080, 'node', 3131));
    if (i >= 45) sockets.push(socket(8000, 'python3', 5151));
    ids.push(rounds.record({ host: os.hostname(), startedAt: first + i * MIN, endedAt: first + i * MIN + 30, outcome: { sockets, connections: [] } }));
  }
  const at = (i: number) => first + i * MIN;
  const detection = new DetectionStore(db);
  detection.recordModel({ version: 1, createdAt: at(59), backend: 'wasm', threshold: 0.5, architecture: {}, history: {}, roundsTrained: 360, roundsSeen: 360 });
  const run = detection.startRun('schedule', at(59), 'wasm');
  detection.saveScores(run, 1, ids.map((roundId, k) => ({ roundId, score: k === 20 || k === 45 ? 0.9 : 0.2, threshold: 0.5, anomalous: k === 20 || k === 45 })));
  const portPart = (i: number, port: number, process: string, pid: number) => ({
    startRoundId: ids[i]!, endRoundId: ids[i]!, startedAt: at(i), endedAt: at(i), rounds: 1, peakScore: 0.9, threshold: 0.5,
    sentence: `Port ${port}/tcp started listening (${process}, pid ${pid}).`,
    ports: [{ proto: 'tcp' as const, port, direction: 'appeared' as const, share: 0.9, expected: 0.02, process, exe: `/usr/bin/${process}`, pid, firstSeenAt: at(i), usualProcess: null, usualExe: null }],
  });
  const port = detection.insertIncident(run, portPart(20, 8080, 'node', 3131));

  const traffic = new TrafficStore(db);
  const processId = (name: string) => db.prepare<[string], number>('SELECT id FROM processes WHERE name = ?').pluck().get(name)!;
  const beacon = traffic.insertIncident(run, {
    startRoundId: ids[30]!, endRoundId: ids[39]!, startedAt: at(30), endedAt: at(39), rounds: 10, peakScore: 14.2, threshold: 9,
    sentence: 'nc (pid 4242) opened connections to c2.example (203.0.113.7:4444), a host it never talked to before, every 60 s since 12:00.',
    processId: processId('nc'),
    trafficKind: 'beacon',
    endpoints: [
      endpoint({ name: 'c2.example', newForProcess: true, newAnywhere: true, heldSince: at(31), opened: 10, bytesOut: 4_800, bytesIn: 1_200, periodMs: 60_000 }),
      endpoint({ address: '198.51.100.20', port: 53, proto: 'udp', name: null, newForProcess: true, opened: 10, bytesOut: 900, bytesIn: 1_800, firstSeenAt: null }),
    ],
    features: [
      { feature: 'periodicity', share: 0.55, value: 0.93, expected: 0.04 },
      { feature: 'new_for_process_share', share: 0.25, value: 1, expected: 0.08 },
      { feature: 'usual_bytes_out', share: 0.12, value: 0, expected: 0.31 },
    ],
  });
  const both = detection.insertIncident(run, portPart(45, 8000, 'python3', 5151));
  traffic.attachToPortIncident(both, {
    processId: processId('python3'),
    trafficKind: 'volume-out',
    endpoints: [endpoint({ address: '192.0.2.50', port: 8443, name: 'drop.example', newForProcess: true, opened: 3, bytesOut: 52_000_000, bytesIn: 4_000 })],
    features: [
      { feature: 'bytes_out', share: 0.61, value: 0.97, expected: 0.12 },
      { feature: 'dns_entropy_max', share: 0.18, value: 0.7, expected: 0.35 },
    ],
    sentence: 'Port 8000/tcp started listening (python3, pid 5151); python3 (pid 5151) sent 52.0 MB to drop.example (192.0.2.50:8443), far more than it usually sends.',
  });
  detection.finishRun(run, { endedAt: at(59) + 1000, status: 'ok', roundsScored: ids.length, incidents: 3, modelVersion: 1 });
  db.close();
  return { port, beacon, both, beaconAt: at(31) };
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

/** The text of each row of a table, cells joined by " | ". */
async function rowsOf(table: Locator): Promise<string[]> {
  return table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim()).join(' | ')));
}

describe.runIf(process.platform === 'linux' && fs.existsSync(CHROMIUM))('traffic incidents in the window', () => {
  let dir: string;
  let file: string;
  let child: ReturnType<typeof startCli>;
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
    child = startCli(['serve', '--port', '0', '--db', file, '--detect-every', '60', '--no-capture']);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    await waitForOutput(child.stdout, /Portent is serving at /, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\nserve's stderr:\n${stderr}`);
    });
    const base = fs.readFileSync(`${file}.url`, 'utf8').trim();
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
      'share of hosts new to this program | 25% | 1.00 | 0.08',
      'its usual bytes sent | 12% | 0.00 | 0.31',
    ]);
    // The bars follow the shares: the first is the widest.
    const widths = await detail.locator('[data-feature] .share').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width));
    expect(widths[0]!).toBeGreaterThan(widths[1]!);
    expect(widths[1]!).toBeGreaterThan(widths[2]!);
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
    expect(features).toEqual(['bytes sent | 61% | 0.97 | 0.12', 'randomness of DNS names | 18% | 0.70 | 0.35']);
    await shot(page, 'incident-both');

    // A port incident stays as it was: ports, no traffic sections.
    await page.locator(`a.incident-row[href="#/incidents/${seeded.port}"]`).click();
    await detail.getByRole('heading', { name: `Incident ${seeded.port}` }).waitFor({ timeout: 15_000 });
    await detail.getByRole('table', { name: 'Contributing ports' }).waitFor();
    expect(await detail.getByRole('heading', { name: 'Who it talked to' }).count()).toBe(0);
    expect(await detail.getByRole('heading', { name: 'What made it stand out' }).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
