import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectTraffic, newCauses, type TrafficOptions } from '../../../../src/main/engine/traffic/trafficDetector';
import type { TrafficEndpoint } from '../../../../src/main/engine/traffic/trafficRow';
import { DetectionStore } from '../../../../src/main/engine/store/detectionStore';
import { isHeldOutWindow, TrafficStore } from '../../../../src/main/engine/store/trafficStore';
import { createLogger, silentLogger } from '../../../../src/main/engine/log';
import { seededRandom } from '../../../../src/shared/random';
import { tempDir } from '../../../support/tmp';
import { firefox, python, RecordedHost, ROUND_MS, T0, updater } from './support/recordedHost';
import { endpointFact } from './support/endpointFact';
import type { ConnectionEntry } from '../../../../src/main/engine/collect/sockets/types';
import { AllowRuleStore } from '../../../../src/main/engine/store/allowRuleStore';
import { ActionStore } from '../../../../src/main/engine/store/actionStore';

const HOUR = 60;
const SITES = Array.from({ length: 12 }, (_, k) => `198.51.100.${10 + k}`);

/**
 * A desktop on the socket table alone (capture off): firefox holds a few connections to a dozen
 * familiar sites, changing every few minutes; an updater checks its one server every ten
 * minutes. From `attackAt` on, python3 holds a connection to a host nothing here ever talked to.
 */
function desktop(hours: number, attack?: { at: number; minutes: number; listener?: boolean }): RecordedHost {
  const host = new RecordedHost();
  const rand = seededRandom(3);
  let open: ConnectionEntry[] = [];
  let shell: ConnectionEntry | null = null;
  for (let i = 0; i < hours * HOUR; i++) {
    open = open.filter(() => rand() > 0.2);
    while (open.length < 2 + Math.floor(rand() * 4)) open.push(host.conn(firefox, SITES[Math.floor(rand() * SITES.length)]!, 443));
    const extra: ConnectionEntry[] = i % 10 === 3 ? [host.conn(updater, '192.0.2.50', 443)] : [];
    const attacking = attack && i >= attack.at && i < attack.at + attack.minutes;
    if (attacking) shell ??= host.conn(python, '203.0.113.7', 4444);
    else shell = null;
    const listeners = attacking && attack.listener ? [{ proto: 'tcp' as const, family: 4 as const, address: '0.0.0.0', port: 4445, ...python }] : [];
    host.round(i, [...open, ...extra, ...(shell ? [shell] : [])], 'off', listeners);
  }
  return host;
}

/** The desktop above, with python3 holding a connection to `remote`:4444 in each of `bursts`. */
function bursts(hours: number, list: { at: number; minutes: number; remote: string }[]): RecordedHost {
  const host = new RecordedHost();
  const rand = seededRandom(3);
  let open: ConnectionEntry[] = [];
  let shell = null as ConnectionEntry | null;
  for (let i = 0; i < hours * HOUR; i++) {
    open = open.filter(() => rand() > 0.2);
    while (open.length < 2 + Math.floor(rand() * 4)) open.push(host.conn(firefox, SITES[Math.floor(rand() * SITES.length)]!, 443));
    const extra: ConnectionEntry[] = i % 10 === 3 ? [host.conn(updater, '192.0.2.50', 443)] : [];
    const burst = list.find((b) => i >= b.at && i < b.at + b.minutes);
    if (burst) shell = shell !== null && shell.remoteAddress === burst.remote ? shell : host.conn(python, burst.remote, 4444);
    else shell = null;
    host.round(i, [...open, ...extra, ...(shell ? [shell] : [])], 'off');
  }
  return host;
}

function options(host: RecordedHost, file: string, hour: number, over: Partial<TrafficOptions> = {}): TrafficOptions {
  const runId = new DetectionStore(host.db).startRun('schedule', T0 + hour * HOUR * ROUND_MS, 'cpu');
  return {
    db: host.db, modelFile: file, log: silentLogger, runId, now: () => T0 + hour * HOUR * ROUND_MS - 1, random: seededRandom(hour), minTrainingRounds: 4 * HOUR, alertsPerDay: 1 / 3, ...over,
  };
}

async function hourly(host: RecordedHost, file: string, hours: number, over: Partial<TrafficOptions> = {}) {
  const results = [];
  for (let h = 1; h <= hours; h++) results.push(await detectTraffic(options(host, file, h, over)));
  return results;
}

describe('traffic detection', () => {
  it('learns a desktop, then names a program holding a connection to a host never seen, in a sentence with the address', async () => {
    const host = desktop(8, { at: 7 * HOUR + 5, minutes: 40 });
    const file = path.join(tempDir(), 'traffic-model.json');
    const results = await hourly(host, file, 8);
    // Learning for four hours of rounds; then alerting.
    expect(results[2]!.learning.learning).toBe(true);
    expect(results[4]!.learning.learning).toBe(false);
    expect(results[4]!.threshold).toBeGreaterThan(0);
    // No incident in the normal hours after learning; the shell's hour raises one.
    expect(results.slice(4, 7).flatMap((r) => r.incidents)).toEqual([]);
    const incidents = results[7]!.incidents;
    expect(incidents).toHaveLength(1);
    const inc = incidents[0]!;
    expect(inc.sentence).toMatch(/^python3 \(pid 4121\) talked to 203\.0\.113\.7:4444, a host it never talked to before \(nor did any program here\)/);
    const traffic = new TrafficStore(host.db);
    expect(traffic.endpointsOf(inc.id)[0]).toMatchObject({ address: '203.0.113.7', port: 4444, direction: 'out', newForProcess: true, newAnywhere: true });
    const features = traffic.featuresOf(inc.id);
    expect(features[0]!.share).toBeGreaterThan(0.05);
    // The new-destination features (a rare remote port is one: 4444 of one host against 443 of a dozen).
    expect(features.map((f) => f.feature)).toEqual(expect.arrayContaining([expect.stringMatching(/new_for_process|new_anywhere|rare_remote_port_share|endpoints|sockets|opened/)]));
    expect(host.db.prepare('SELECT kind, traffic_kind FROM incidents WHERE id = ?').get(inc.id)).toEqual({ kind: 'traffic', traffic_kind: 'new-destination' });
    // Every window of the eight hours (48 of ten rounds) was scored once, and the model file is private.
    expect(host.db.prepare('SELECT count(DISTINCT last_round_id) FROM traffic_windows').pluck().get()).toBe(48);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('honours a rule that names the program (not one that names a port too), learns it as normal, and alerts again once it is deleted', async () => {
    // The identity /proc would give for the program's pid, so the incident records its start time.
    const identity = { read: (pid: number) => (pid === python.pid ? { pid, startTicks: 5, exe: python.exe, name: 'python3', uid: 1000 } : null), bootTime: () => 0 };
    const attack = { at: 7 * HOUR + 5, minutes: 40 };
    const kept = desktop(8, attack);
    new AllowRuleStore(kept.db).add({ exe: python.exe, user: 'ann' });
    const quiet = await hourly(kept, path.join(tempDir(), 'traffic-model.json'), 8, { identity });
    expect(quiet[7]!.incidents).toEqual([]);
    expect(kept.db.prepare('SELECT count(*) FROM traffic_windows WHERE anomalous = 1').pluck().get()).toBe(0);

    // A program on one port is about its listener: its traffic still alerts.
    const narrow = desktop(8, attack);
    new AllowRuleStore(narrow.db).add({ exe: python.exe, proto: 'tcp', port: 4444 });
    expect((await hourly(narrow, path.join(tempDir(), 'traffic-model.json'), 8, { identity }))[7]!.incidents).toHaveLength(1);

    const deleted = desktop(8, attack);
    const rules = new AllowRuleStore(deleted.db);
    const rule = rules.add({ exe: python.exe });
    const file = path.join(tempDir(), 'traffic-model.json');
    await hourly(deleted, file, 7, { identity });
    rules.remove(rule.id);
    const last = await detectTraffic(options(deleted, file, 8, { identity }));
    expect(last.incidents).toHaveLength(1);
    expect(new ActionStore(deleted.db).processes(last.incidents[0]!.id)).toEqual([{ pid: python.pid, startTicks: 5, exe: python.exe, name: 'python3', uid: 1000, ports: [] }]);
  });

  it("scores each window as soon as it is complete in 'score' runs, without refitting; the next full run trains on those windows too", async () => {
    type Saved = { version: number; history: { rows: number }[]; scoredThrough: number; trainedThrough?: number | null };
    const attack = { at: 7 * HOUR + 5, minutes: 40 };
    const read = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Saved;
    // The same eight hours twice: hourly full runs only, and with 'score' runs every ten minutes of the last hour.
    const hourlyOnly = desktop(8, attack);
    const hourlyFile = path.join(tempDir(), 'traffic-model.json');
    const onlyHourly = await hourly(hourlyOnly, hourlyFile, 8);
    const host = desktop(8, attack);
    const file = path.join(tempDir(), 'traffic-model.json');
    await hourly(host, file, 7);
    const before = read(file);
    const scoreAt = (minute: number) => detectTraffic({ ...options(host, file, 7), now: () => T0 + (7 * HOUR + minute) * ROUND_MS - 1, scope: 'score' });
    const told = [];
    for (const minute of [10, 20, 30]) {
      const r = await scoreAt(minute);
      expect(r).toMatchObject({ windowsScored: 1, fitMs: 0, epochs: 0 });
      told.push(...r.incidents);
    }
    // Told within the first complete window of the shell (its hourly twin waits for the hour).
    expect(told.length).toBeGreaterThan(0);
    expect(told[0]!.sentence).toMatch(/^python3 \(pid 4121\) talked to 203\.0\.113\.7:4444/);
    expect(told[0]!.startedAt).toBe(T0 + 7 * HOUR * ROUND_MS);
    const scored = read(file);
    expect(scored.version).toBe(before.version);
    expect(scored.history).toHaveLength(before.history.length);
    expect(scored.scoredThrough).toBe(before.scoredThrough + 30);
    expect(scored.trainedThrough).toBe(before.scoredThrough);
    // The hour's full run scores the rest and refits on all of the hour, as an hourly run alone does.
    const full = await detectTraffic(options(host, file, 8));
    expect(full.windowsScored).toBe(3);
    const refit = read(file);
    expect(refit.trainedThrough).toBe(refit.scoredThrough);
    expect(refit.history).toHaveLength(before.history.length + 1);
    expect(refit.history.at(-1)!.rows).toBe(read(hourlyFile).history.at(-1)!.rows);
    // The same incident as the hourly runs found, told earlier.
    expect(new Set([...told, ...full.incidents].map((i) => i.sentence))).toEqual(new Set(onlyHourly[7]!.incidents.map((i) => i.sentence)));
  });

  it('a first run over hours of backlog gives each window the habits and port counts of the windows before it, so the next hour is quiet', async () => {
    const host = desktop(8);
    const file = path.join(tempDir(), 'traffic-model.json');
    // One run over seven hours (42 windows), as on a monitor's first detection after an upgrade.
    const backlog = await detectTraffic(options(host, file, 7));
    expect(backlog.windowsScored).toBe(42);
    expect(backlog.learning.learning).toBe(false);
    // The same desktop's next hour: scored with the habits the backlog taught, which its training
    // rows carried too (frozen at the run's start, they said every process was new and every port rare).
    const next = await detectTraffic(options(host, file, 8));
    expect(next.windowsScored).toBe(6);
    expect(next.incidents).toEqual([]);
  });

  it('tells the same cause coming back after a pause as its first incident, not a new one; a new remote end is a new incident', async () => {
    const shell = '203.0.113.7';
    const host = bursts(9, [
      { at: 5 * HOUR + 5, minutes: 20, remote: shell },
      { at: 6 * HOUR + 5, minutes: 20, remote: shell },
      { at: 7 * HOUR + 5, minutes: 20, remote: shell },
      { at: 8 * HOUR + 5, minutes: 20, remote: '203.0.113.99' },
    ]);
    const file = path.join(tempDir(), 'traffic-model.json');
    const results = await hourly(host, file, 9);
    expect(results[4]!.learning.learning).toBe(false);
    const rows = host.db.prepare<[], { id: number; runId: number; startedAt: number; endedAt: number }>('SELECT id, run_id AS runId, started_at AS startedAt, ended_at AS endedAt FROM incidents ORDER BY id').all();
    expect(rows).toHaveLength(2);
    // The first burst's incident, announced by hour 6's run, runs on through the bursts of hours 7 and 8.
    expect(rows[0]!.startedAt).toBeLessThan(T0 + 5 * HOUR * ROUND_MS + 30 * ROUND_MS);
    expect(rows[0]!.endedAt).toBeGreaterThan(T0 + 7 * HOUR * ROUND_MS);
    expect(new TrafficStore(host.db).endpointsOf(rows[0]!.id).map((e) => e.address)).toContain(shell);
    // Three bursts, three episodes of the one incident, with the pauses between them left out.
    const episodes = new DetectionStore(host.db).episodesOf(rows[0]!.id);
    expect(episodes).toHaveLength(3);
    for (let i = 1; i < episodes.length; i++) expect(episodes[i]!.startedAt).toBeGreaterThan(episodes[i - 1]!.endedAt);
    // Raised by the sixth hour's run; the runs of hours 7 and 8 extended it (not news: another run's).
    const runs = host.db.prepare<[], number>('SELECT id FROM detection_runs ORDER BY id').pluck().all();
    expect(rows[0]!.runId).toBe(runs[5]);
    expect(results[6]!.incidents.map((i) => i.id)).toEqual([rows[0]!.id]);
    expect(results[7]!.incidents.map((i) => i.id)).toEqual([rows[0]!.id]);
    // The new remote end is a new incident, of the last hour's run.
    expect(rows[1]!.runId).toBe(runs[8]);
    expect(new TrafficStore(host.db).endpointsOf(rows[1]!.id).map((e) => e.address)).toContain('203.0.113.99');
    expect(rows[1]!.startedAt).toBeGreaterThanOrEqual(T0 + 8 * HOUR * ROUND_MS);
  });

  it('counts as a new cause only what the process reached within the hour and not before the incident began, and every scanner or zone', () => {
    const since = T0 + 10 * HOUR * ROUND_MS;
    // Ends this process had talked to before the hour unless a test says otherwise.
    const end = (address: string, over: Partial<TrafficEndpoint>) =>
      endpointFact({ endpointId: null, proto: 'udp', address, port: 123, newForProcess: false, recentForProcess: false, newAnywhere: false, bytesOut: 48, bytesIn: 48, ...over });
    // An NTP client's next pool server: polled, unnamed, for hours before a scan named the client.
    const polled = end('203.0.113.252', { firstSeenByProcessAt: since + 4 * 86_400_000 });
    // A host it first reached in the window (new), and one it first reached 20 minutes before it.
    const fresh = end('203.0.113.7', { newForProcess: true, recentForProcess: true, newAnywhere: true });
    const lately = end('203.0.113.8', { recentForProcess: true, firstSeenByProcessAt: since + 3 * 86_400_000 });
    // A host reached within the hour, but one the process already talked to before the incident.
    const known = end('192.0.2.50', { recentForProcess: true, firstSeenByProcessAt: since - 60_000 });
    const zone = { proto: 'udp', address: '', port: 53, direction: 'out' as const, name: 't.example.net', newForProcess: false, newAnywhere: false, firstSeenAt: null, heldSince: null, opened: 4, bytesOut: 0, bytesIn: 0, periodMs: null };
    expect(newCauses([polled, known], [], since)).toEqual([]);
    expect(newCauses([polled, fresh, lately, known], [zone], since).map((e) => e.name ?? e.address)).toEqual(['t.example.net', '203.0.113.7', '203.0.113.8']);
  });

  it('learns the windows an expected incident goes on into', async () => {
    // python3 holds a line to a new host from 5:05 for two hours; the user calls it expected after the hour-6 run.
    const shell = '203.0.113.7';
    const host = bursts(8, [{ at: 5 * HOUR + 5, minutes: 120, remote: shell }]);
    const file = path.join(tempDir(), 'traffic-model.json');
    const results = await hourly(host, file, 6);
    const incident = results.flatMap((r) => r.incidents).find((i) => /^python3 .* talked to 203\.0\.113\.7:4444/.test(i.sentence));
    expect(incident).toBeDefined();
    new DetectionStore(host.db).markIncidentExpected(incident!.id, T0 + 6 * HOUR * ROUND_MS);
    const marked = host.db.prepare('SELECT count(*) FROM expected_rounds').pluck().get() as number;
    await detectTraffic(options(host, file, 7));
    // Its windows of hour 7 that went on being anomalous are approved: their last rounds marked, and they are learned.
    const store = new TrafficStore(host.db);
    const later = host.db
      .prepare<[number], { lastRoundId: number; processId: number | null }>('SELECT last_round_id AS lastRoundId, process_id AS processId FROM traffic_windows WHERE anomalous = 1 AND started_at >= ?')
      .all(T0 + 6 * HOUR * ROUND_MS);
    expect(later.length).toBeGreaterThan(0);
    expect(host.db.prepare('SELECT count(*) FROM expected_rounds').pluck().get() as number).toBeGreaterThan(marked);
    // Hold-out windows are never trained on, approved or not.
    const approved = new Set(store.approvedSince(T0 + 6 * HOUR * ROUND_MS).map((w) => w.lastRoundId));
    expect(later.filter((w) => !isHeldOutWindow(w.lastRoundId) && !approved.has(w.lastRoundId))).toEqual([]);
    expect(later.filter((w) => !isHeldOutWindow(w.lastRoundId)).length).toBeGreaterThan(0);
  });

  it('tells a listener and the traffic of the same program as one incident', async () => {
    const host = desktop(8, { at: 7 * HOUR + 5, minutes: 40, listener: true });
    const file = path.join(tempDir(), 'traffic-model.json');
    await hourly(host, file, 7);
    // The port model's incident about python3's listener (its store, as the port detector writes it).
    const store = new DetectionStore(host.db);
    const first = host.db.prepare<[number], number>('SELECT id FROM rounds WHERE started_at = ?').pluck().get(T0 + (7 * HOUR + 5) * ROUND_MS)!;
    const portIncident = store.insertIncident(store.startRun('schedule', T0, 'cpu'), {
      startRoundId: first, endRoundId: first + 39, startedAt: T0 + (7 * HOUR + 5) * ROUND_MS, endedAt: T0 + (7 * HOUR + 44) * ROUND_MS, rounds: 40, peakScore: 14, threshold: 4,
      sentence: 'Port 4445/tcp started listening: python3 (pid 4121), never seen before.',
      ports: [{ proto: 'tcp', port: 4445, direction: 'appeared', share: 1, expected: 0, process: 'python3', exe: python.exe, pid: python.pid, firstSeenAt: null, usualProcess: null, usualExe: null }],
    });
    const r = await detectTraffic(options(host, file, 8));
    expect(r.incidents.map((i) => i.id)).toEqual([portIncident]);
    const row = host.db.prepare<[number], { kind: string; sentence: string }>('SELECT kind, sentence FROM incidents WHERE id = ?').get(portIncident)!;
    expect(row.kind).toBe('both');
    expect(row.sentence).toMatch(/^Port 4445\/tcp started listening: python3 \(pid 4121\), never seen before\. python3 \(pid 4121\) talked to 203\.0\.113\.7:4444/);
    expect(host.db.prepare("SELECT count(*) FROM incidents WHERE kind = 'traffic'").pluck().get()).toBe(0);
  });

  it('after an upgrade that changed the features, retrains on windows of the new features only', async () => {
    const host = desktop(4);
    const file = path.join(tempDir(), 'traffic-model.json');
    await hourly(host, file, 3, { minTrainingRounds: HOUR });
    // As an older Portent left them: a model of one feature fewer, and its windows.
    const old = JSON.parse(fs.readFileSync(file, 'utf8')) as { features: string[] };
    old.features = old.features.slice(0, -1);
    fs.writeFileSync(file, JSON.stringify(old));
    host.db.prepare('UPDATE traffic_windows SET features = substr(features, 1, length(features) - 4)').run();
    const lines: string[] = [];
    const r = await detectTraffic(options(host, file, 4, { minTrainingRounds: HOUR, log: createLogger((l) => lines.push(l), 'warn') }));
    expect(lines.join('\n')).toMatch(/discarding the saved traffic model.*built on other features/);
    expect(r.windowsScored).toBe(6);
    // It trained on the hour's new normal windows outside the hold-out, and on none of the older ones.
    const rows = (JSON.parse(fs.readFileSync(file, 'utf8')) as { history: { rows: number }[] }).history.at(-1)!.rows;
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBe(host.db.prepare('SELECT count(*) FROM traffic_windows WHERE last_round_id > ? AND held_out = 0 AND anomalous = 0').pluck().get(3 * HOUR));
  });

  it('rebuilds a damaged model file with a log line, and a new model does not score the past again', async () => {
    const host = desktop(3);
    const file = path.join(tempDir(), 'traffic-model.json');
    await hourly(host, file, 2);
    fs.writeFileSync(file, '{"format":"portent-traffic-vae","formatVersion":1,"features":[');
    const lines: string[] = [];
    const r = await detectTraffic(options(host, file, 3, { log: createLogger((l) => lines.push(l), 'warn') }));
    expect(lines.join('\n')).toMatch(/discarding the saved traffic model; a new one will be trained.*unreadable/);
    expect(r.windowsScored).toBe(6);
    expect(host.db.prepare('SELECT count(DISTINCT last_round_id) FROM traffic_windows').pluck().get()).toBe(18);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).roundsSeen).toBe(60);
  });

  it('rebuilds a model of one VAE (format 1) and one with a damaged member, each with a log line that says why', async () => {
    const host = desktop(4);
    const file = path.join(tempDir(), 'traffic-model.json');
    await hourly(host, file, 2);
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { formatVersion: number; members: { weights: { values: number[] }[] }[] | null };
    expect(saved.formatVersion).toBe(2);
    expect(saved.members).toHaveLength(5);
    // As Portent saved its traffic model before it had several members.
    const { members, ...rest } = saved;
    fs.writeFileSync(file, JSON.stringify({ ...rest, formatVersion: 1, vae: members![0] }));
    const lines: string[] = [];
    const log = createLogger((l) => lines.push(l), 'warn');
    const r = await detectTraffic(options(host, file, 3, { log }));
    expect(lines.join('\n')).toMatch(/discarding the saved traffic model.*portent-traffic-vae v1 is not portent-traffic-vae v2/);
    expect(r.windowsScored).toBe(6);
    const rebuilt = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof saved;
    expect(rebuilt.members).toHaveLength(5);
    rebuilt.members![3]!.weights[2]!.values.pop();
    fs.writeFileSync(file, JSON.stringify(rebuilt));
    lines.length = 0;
    await detectTraffic(options(host, file, 4, { log }));
    expect(lines.join('\n')).toMatch(/discarding the saved traffic model.*damaged: member 4 of 5: saved weight 2 has shape/);
    expect((JSON.parse(fs.readFileSync(file, 'utf8')) as typeof saved).members).toHaveLength(5);
  });
});

