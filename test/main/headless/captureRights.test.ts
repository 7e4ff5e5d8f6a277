/**
 * Capture rights belong to the capture process alone. `capture-setup` installs the capture
 * runtime for real (a copy of Node with file capabilities, setcap), then the monitor runs as an
 * unprivileged user with no capability at all and captures loopback traffic through it. Every
 * Portent process's capability sets are read from /proc/<pid>/status while it runs.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { processCapabilities } from '../../../src/main/engine/collect/capture/captureRuntime';
import { exitOf, repoRoot, runCli, waitForOutput } from '../../support/cli';
import { tempDir } from '../../support/tmp';
import { setprivUnavailable } from '../engine/collect/capture/support/privilege';
import { echoOnce, listenTcpEcho } from '../engine/collect/capture/support/servers';

const NOBODY = 65534;
const CAP_NET_ADMIN_AND_RAW = (1n << 12n) | (1n << 13n);
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

/** The processes whose parent is `pid`, with their capability sets. */
function childrenOf(pid: number): { pid: number; command: string; effective: bigint; permitted: bigint; ambient: bigint }[] {
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
    out.push({ pid: Number(entry), command, ...caps });
  }
  return out;
}

const hex = (n: bigint) => n.toString(16).padStart(16, '0');

describe.runIf(process.platform === 'linux')('capture rights for the capture process only', () => {
  it.skipIf(why !== null)(`capture-setup installs the runtime; the monitor as an unprivileged user holds no capability while its capture process captures (${why ?? 'root, setcap, setpriv'})`, async () => {
    const dir = tempDir();
    fs.chmodSync(dir, 0o755);
    const runtime = path.join(dir, 'libexec', 'portent-capture');
    const setup = runCli(['capture-setup', '--runtime', runtime, '--group', String(NOBODY)]);
    expect(setup.stderr).toBe('');
    expect(setup.status).toBe(0);
    expect(setup.stdout).toContain(`Installed the capture runtime ${runtime}`);
    const st = fs.statSync(runtime);
    expect({ uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 }).toEqual({ uid: 0, gid: NOBODY, mode: 0o750 });
    expect(spawnSync('getcap', [runtime], { encoding: 'utf8' }).stdout).toMatch(/cap_net_admin,cap_net_raw[=+]ep/);

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
        '--filter', `tcp port ${port} and tcp[tcpflags] & tcp-syn != 0`, '--capture-runtime', runtime],
      { cwd: repoRoot },
    );
    const exit = exitOf(monitor);
    const seen: string[] = [];
    try {
      const log = await waitForOutput(monitor.stderr, /"msg":"packet capture on".*\n/);
      const on = JSON.parse(log.split('\n').find((l) => l.includes('"packet capture on"')) ?? '{}') as { pid: number; runtime: string };
      expect(on.runtime).toBe(runtime);
      const main = processCapabilities(monitor.pid ?? -1);
      const children = childrenOf(monitor.pid ?? -1);
      seen.push(`monitor pid ${monitor.pid} (${process.execPath}): CapEff ${hex(main?.effective ?? -1n)} CapPrm ${hex(main?.permitted ?? -1n)} CapAmb ${hex(main?.ambient ?? -1n)}`);
      for (const c of children) seen.push(`child pid ${c.pid} (${c.command}): CapEff ${hex(c.effective)} CapPrm ${hex(c.permitted)} CapAmb ${hex(c.ambient)}`);
      console.log(seen.join('\n'));
      expect(main).toEqual({ effective: 0n, permitted: 0n, ambient: 0n });
      // The capture process holds exactly the two capture capabilities; any other child (tsx's
      // esbuild service, in a checkout) holds none.
      const capture = children.find((c) => c.pid === on.pid);
      expect(capture).toMatchObject({ command: runtime, effective: CAP_NET_ADMIN_AND_RAW, permitted: CAP_NET_ADMIN_AND_RAW, ambient: 0n });
      for (const c of children.filter((c) => c.pid !== on.pid)) expect(c).toMatchObject({ effective: 0n, permitted: 0n, ambient: 0n });
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
    // Both handshake packets of each connection were captured by the runtime, as the monitor stored them.
    expect(db.prepare('SELECT sum(packets) FROM flows').pluck().get()).toBe(8);
    expect(db.prepare("SELECT count(*) FROM round_capture WHERE state <> 'on'").pluck().get()).toBe(0);
    db.close();
  });

  it.skipIf(why !== null)(`without the runtime, the same unprivileged monitor says capture is off and how to install it (${why ?? 'root, setpriv'})`, async () => {
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
    const asNobody = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--inh-caps=-all', process.execPath, '--import', 'tsx', path.join(repoRoot, 'src', 'main', 'headless', 'cli.ts'), 'capture-setup', '--runtime', path.join(dir, 'portent-capture'), '--group', String(NOBODY)], { cwd: repoRoot, encoding: 'utf8' });
    expect(asNobody.status).toBe(2);
    expect(asNobody.stderr).toMatch(/capture-setup must run as root/);
    const noGroup = runCli(['capture-setup', '--runtime', path.join(dir, 'portent-capture')], { SUDO_GID: '' });
    expect(noGroup.status).toBe(2);
    expect(noGroup.stderr).toMatch(/--group GROUP is required/);
    const badGroup = runCli(['capture-setup', '--runtime', path.join(dir, 'portent-capture'), '--group', 'no-such-group-here']);
    expect(badGroup.status).toBe(2);
    expect(badGroup.stderr).toMatch(/no group named 'no-such-group-here'/);
    const badName = runCli(['capture-setup', '--runtime', path.join(dir, 'node'), '--group', String(NOBODY)]);
    expect(badName.status).toBe(2);
    expect(badName.stderr).toMatch(/--runtime must name a file called portent-capture/);
    expect(fs.readdirSync(dir)).toEqual([]);
    const notRunnable = runCli(['run', '--db', path.join(dir, 'p.db'), '--capture-runtime', path.join(dir, 'portent-capture')]);
    expect(notRunnable.status).toBe(2);
    expect(notRunnable.stderr).toMatch(/--capture-runtime .* cannot be run by this user \(ENOENT\)/);
  });
});
