/**
 * Capture rights belong to the capture helper alone. `capture-setup` installs the helper for real
 * (the built native/capture program, root-owned, with file capabilities through setcap), then the
 * monitor runs as an unprivileged user with no capability at all and captures loopback traffic
 * through it. Every Portent process's capability sets are read from /proc/<pid>/status while it
 * runs: the monitor, its capture process (which decodes) and the helper, which has emptied its
 * own sets once the capture was open.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { processCapabilities } from '../../../src/main/engine/collect/capture/captureHelper';
import { exitOf, repoRoot, runCli, waitForOutput } from '../../support/cli';
import { tempDir } from '../../support/tmp';
import { setprivUnavailable } from '../engine/collect/capture/support/privilege';
import { echoOnce, listenTcpEcho } from '../engine/collect/capture/support/servers';

const NOBODY = 65534;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function unavailable(): string | null {
  const setpriv = setprivUnavailable();
  if (setpriv) return setpriv;
  for (const tool of ['setcap', 'getcap', 'getent']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  if (spawnSync('getent', ['group', String(NOBODY)]).status !== 0) return `no group ${NOBODY} on this machine`;
  return null;
}
const why = unavailable();

interface Proc {
  pid: number;
  command: string;
  noNewPrivs: boolean;
  effective: bigint;
  permitted: bigint;
  ambient: bigint;
}

/** The processes whose parent is `pid`, with their capability sets. */
function childrenOf(pid: number): Proc[] {
  const out = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let status: string;
    try {
      status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
    } catch {
      continue;
    }
    if (Number(/^PPid:\s*(\d+)/m.exec(status)?.[1]) !== pid) continue;
    const caps = processCapabilities(Number(entry));
    if (!caps) continue;
    const command = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')[0] ?? '';
    out.push({ pid: Number(entry), command, noNewPrivs: /^NoNewPrivs:\s*1$/m.test(status), ...caps });
  }
  return out;
}

const hex = (n: bigint) => n.toString(16).padStart(16, '0');

describe.runIf(process.platform === 'linux')('capture rights for the capture helper only', () => {
  it.skipIf(why !== null)(`capture-setup installs the helper; the monitor, as an unprivileged user, and the helper hold no capability while they capture through it (${why ?? 'root, setcap, setpriv'})`, async () => {
    const dir = tempDir();
    fs.chmodSync(dir, 0o755);
    const helper = path.join(dir, 'libexec', 'portent-capture');
    const setup = runCli(['capture-setup', '--helper', helper, '--group', String(NOBODY)]);
    expect(setup.stderr).toBe('');
    expect(setup.status).toBe(0);
    expect(setup.stdout).toContain(`Installed the capture helper ${helper}`);
    const st = fs.statSync(helper);
    expect({ uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 }).toEqual({ uid: 0, gid: NOBODY, mode: 0o750 });
    expect(spawnSync('getcap', [helper], { encoding: 'utf8' }).stdout).toMatch(/cap_net_admin,cap_net_raw[=+]ep/);

    const data = path.join(dir, 'data');
    fs.mkdirSync(data);
    fs.chownSync(data, NOBODY, NOBODY);
    const file = path.join(data, 'portent.db');
    const echo = await listenTcpEcho('127.0.0.1');
    const port = (echo.address() as net.AddressInfo).port;
    const cli = path.join(repoRoot, 'src', 'main', 'headless', 'cli.ts');
    // No capability in any set, none inheritable: what a service without AmbientCapabilities,
    // or a desktop user's session, gives the monitor.
    const monitor = spawn(
      'setpriv',
      [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--inh-caps=-all', process.execPath, '--import', 'tsx', cli, 'run', '--round-seconds', '1', '--db', file, '--iface', 'lo',
        '--filter', `tcp port ${port} and tcp[tcpflags] & tcp-syn != 0`, '--capture-helper', helper],
      { cwd: repoRoot },
    );
    const exit = exitOf(monitor);
    const seen: string[] = [];
    try {
      const log = await waitForOutput(monitor.stderr, /"msg":"packet capture on".*\n/);
      const on = JSON.parse(log.split('\n').find((l) => l.includes('"packet capture on"')) ?? '{}') as { pid: number | null; helper: string };
      expect(on.helper).toBe(helper);
      // With a helper, the capture child that decodes is a thread of the monitor, not a process.
      expect(on.pid).toBeNull();
      const main = processCapabilities(monitor.pid ?? -1);
      const children = childrenOf(monitor.pid ?? -1);
      const helpers = children.filter((c) => c.command === helper);
      seen.push(`monitor pid ${monitor.pid} (${process.execPath}): CapEff ${hex(main?.effective ?? -1n)} CapPrm ${hex(main?.permitted ?? -1n)} CapAmb ${hex(main?.ambient ?? -1n)}`);
      for (const c of children) seen.push(`child pid ${c.pid} (${c.command}): CapEff ${hex(c.effective)} CapPrm ${hex(c.permitted)} CapAmb ${hex(c.ambient)} NoNewPrivs ${c.noNewPrivs ? 1 : 0}`);
      console.log(seen.join('\n'));
      // The monitor (decoding in its thread) holds nothing, and neither does any child (tsx's
      // esbuild service, in a checkout).
      expect(main).toEqual({ effective: 0n, permitted: 0n, ambient: 0n });
      for (const c of children) expect(c).toMatchObject({ effective: 0n, permitted: 0n, ambient: 0n });
      // The helper, started from the file that carries the capabilities, has given them all up
      // (and the right to regain any) since it opened.
      expect(helpers).toHaveLength(1);
      expect(helpers[0]).toMatchObject({ command: helper, effective: 0n, permitted: 0n, ambient: 0n, noNewPrivs: true });
      for (let i = 0; i < 4; i++) {
        await echoOnce(port, '127.0.0.1', `round trip ${i}`);
        await sleep(300);
      }
      await sleep(2200);
    } finally {
      monitor.kill('SIGTERM');
    }
    expect((await exit).code).toBe(0);
    echo.close();
    const db = new Database(file, { readonly: true });
    // Both handshake packets of each connection were captured through the helper, as the monitor stored them.
    expect(db.prepare('SELECT sum(packets) FROM flows').pluck().get()).toBe(8);
    expect(db.prepare("SELECT count(*) FROM round_capture WHERE state <> 'on'").pluck().get()).toBe(0);
    db.close();
  });

  it.skipIf(why !== null)(`without the helper, the same unprivileged monitor says capture is off and how to install it (${why ?? 'root, setpriv'})`, async () => {
    const dir = tempDir();
    fs.chmodSync(dir, 0o755);
    fs.chownSync(dir, NOBODY, NOBODY);
    const cli = path.join(repoRoot, 'src', 'main', 'headless', 'cli.ts');
    const monitor = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--inh-caps=-all', process.execPath, '--import', 'tsx', cli, 'run', '--round-seconds', '1', '--db', path.join(dir, 'p.db'), '--iface', 'lo'], { cwd: repoRoot });
    const exit = exitOf(monitor);
    let log: string;
    try {
      log = await waitForOutput(monitor.stderr, /packet capture is off.*\n/);
    } finally {
      monitor.kill('SIGTERM');
    }
    expect((await exit).code).toBe(0);
    const off = JSON.parse(log.split('\n').find((l) => l.includes('packet capture is off')) ?? '{}') as { msg: string; howToFix: string };
    expect(off.msg).toMatch(/^packet capture is off: permission denied on lo/);
    expect(off.howToFix).toContain('portent capture-setup --group GROUP');
    expect(off.howToFix).not.toMatch(/setcap|AmbientCapabilities/);
  });

  it.skipIf(why !== null)('capture-setup refuses what it cannot do safely', () => {
    const dir = tempDir();
    const asNobody = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--inh-caps=-all', process.execPath, '--import', 'tsx', path.join(repoRoot, 'src', 'main', 'headless', 'cli.ts'), 'capture-setup', '--helper', path.join(dir, 'portent-capture'), '--group', String(NOBODY)], { cwd: repoRoot, encoding: 'utf8' });
    expect(asNobody.status).toBe(2);
    expect(asNobody.stderr).toMatch(/capture-setup must run as root/);
    const noGroup = runCli(['capture-setup', '--helper', path.join(dir, 'portent-capture')], { SUDO_GID: '' });
    expect(noGroup.status).toBe(2);
    expect(noGroup.stderr).toMatch(/--group GROUP is required/);
    const badGroup = runCli(['capture-setup', '--helper', path.join(dir, 'portent-capture'), '--group', 'no-such-group-here']);
    expect(badGroup.status).toBe(2);
    expect(badGroup.stderr).toMatch(/no group named 'no-such-group-here'/);
    const badName = runCli(['capture-setup', '--helper', path.join(dir, 'node'), '--group', String(NOBODY)]);
    expect(badName.status).toBe(2);
    expect(badName.stderr).toMatch(/--helper must name a file called portent-capture/);
    expect(fs.readdirSync(dir)).toEqual([]);
    const notRunnable = runCli(['run', '--db', path.join(dir, 'p.db'), '--capture-helper', path.join(dir, 'portent-capture')]);
    expect(notRunnable.status).toBe(2);
    expect(notRunnable.stderr).toMatch(/--capture-helper .* cannot be run by this user \(ENOENT\)/);
  });
});
