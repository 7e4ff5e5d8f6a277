/**
 * docs/service.md, followed literally on a fresh machine, gives a running service: this runs
 * `sudo bash scripts/install-service.sh` for real (default prefix, user and unit), starts the
 * service from the unit file it installed as systemd would (the real systemd when it is PID 1,
 * test/support/systemdUnit.ts otherwise), checks the monitor through `status` as its user, the
 * capabilities of its processes and a clean SIGTERM, then `--remove --purge` takes it all away.
 *
 * It changes the machine (a system user, /opt/portent, /etc/systemd/system, /var/lib/portent),
 * so it runs only as root on Linux with PORTENT_SYSTEM_TESTS=1, which .ci/run sets on its
 * throwaway machine.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processCapabilities } from '../../src/main/engine/collect/capture/captureHelper';
import { repoRoot } from '../support/cli';
import { tempDir } from '../support/tmp';
import { account, groupId, parseUnit, processesOf, startAsSystemdWould, type RunningService } from '../support/systemdUnit';

const PREFIX = '/opt/portent';
const UNIT = '/etc/systemd/system/portent.service';
const STATE = '/var/lib/portent';
const USER = 'portent';
const SCRIPT = path.join(repoRoot, 'scripts', 'install-service.sh');
const TEMPLATE = path.join(repoRoot, 'deploy', 'systemd', 'portent.service');
const systemdRuns = fs.existsSync('/run/systemd/system');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The PATH `sudo` gives the script (its secure_path), with this Node's folder last. */
const SUDO_PATH = `/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${path.dirname(process.execPath)}`;

/** The node the script will find on that PATH. */
function nodeOnSudoPath(): string | undefined {
  return SUDO_PATH.split(':').map((dir) => path.join(dir, 'node')).find((file) => fs.existsSync(file));
}

/** Why the installation cannot be tried here, or null. */
function systemTestBlocked(): string | null {
  if (process.platform !== 'linux') return 'Linux only';
  if (process.getuid?.() !== 0) return 'needs root';
  if (process.env.PORTENT_SYSTEM_TESTS !== '1') return 'changes the machine: runs with PORTENT_SYSTEM_TESTS=1, as CI sets it';
  if (!fs.existsSync(path.join(repoRoot, 'out', 'main', 'cli.js'))) return 'needs the build (npm run build)';
  if (fs.existsSync(PREFIX) || fs.existsSync(UNIT) || fs.existsSync(STATE) || account(USER) || groupId(USER) !== null) {
    return `a Portent service is already installed here (${PREFIX}, ${UNIT}, ${STATE} or the user ${USER})`;
  }
  const node = nodeOnSudoPath() ?? process.execPath;
  if (/^\/(home|root|run\/user)\//.test(node)) return `Node is installed as ${node}, which a service cannot run (ProtectHome=yes): install Node system-wide`;
  for (const tool of ['setpriv', 'unshare', 'setcap', 'npm']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return null;
}
const blocked = systemTestBlocked();

/** `sudo bash scripts/install-service.sh ARGS` from the checkout, in the environment sudo gives. */
function asSudoRuns(args: string[] = []) {
  return spawnSync('bash', [SCRIPT, ...args], { cwd: repoRoot, env: { PATH: SUDO_PATH, HOME: '/root', LANG: 'C.UTF-8' }, encoding: 'utf8', timeout: 120_000 });
}

/** Every file under `dir` that is not owned by root or that group or others may write (links apart). */
function notRootOnly(dir: string, except: string[]): string[] {
  const bad: string[] = [];
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    if (!except.includes(p) && !st.isSymbolicLink() && (st.uid !== 0 || (st.mode & 0o022) !== 0)) bad.push(`${p} (uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8)})`);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
  return bad;
}

/** `status` as the service's user, as docs/service.md says to check it. */
function statusAsService(node: string): string {
  const who = account(USER)!;
  const r = spawnSync('setpriv', [`--reuid=${who.uid}`, `--regid=${who.gid}`, '--init-groups', '--inh-caps=-all', '/usr/bin/env', '-i', `PATH=${process.env.PATH}`, `PORTENT_HOME=${STATE}`, node, `${PREFIX}/out/main/cli.js`, 'status'], {
    cwd: '/',
    encoding: 'utf8',
    timeout: 30_000,
  });
  return `${r.stdout}${r.stderr}`;
}

function logLines(): { msg: string; [k: string]: unknown }[] {
  const file = path.join(STATE, 'logs', 'portent.log');
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string });
}

/** The pids whose parent is `pid`. */
function childPids(pid: number): number[] {
  return fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e) && ppidOf(Number(e)) === pid).map(Number);
}

function ppidOf(pid: number): number {
  try {
    return Number(/^PPid:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  } catch {
    return -1; // gone meanwhile
  }
}

let service: RunningService | null = null;
let installed = false;

/** Takes away whatever the test installed, even after a failure. */
async function tidy(): Promise<void> {
  if (!installed) return;
  const t0 = Date.now();
  const who = account(USER);
  if (service && service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
  // The user did not exist before the test: every process it runs was started here.
  for (let i = 0; who && processesOf(who.uid).length > 0 && i < 50; i++) {
    for (const pid of processesOf(who.uid)) process.kill(pid, 'SIGKILL');
    await sleep(100);
  }
  asSudoRuns(['--remove', '--purge']);
  fs.rmSync(PREFIX, { recursive: true, force: true });
  fs.rmSync(UNIT, { force: true });
  fs.rmSync(STATE, { recursive: true, force: true });
  if (account(USER)) spawnSync('userdel', [USER]);
  if (groupId(USER) !== null) spawnSync('groupdel', [USER]);
  installed = false;
  console.log(`cleaned up after a failure in ${Date.now() - t0} ms`);
}

describe.runIf(process.platform === 'linux')('scripts/install-service.sh', () => {
  afterAll(tidy, 60_000);

  it('refuses unknown arguments and a caller who is not root, in one line, before changing anything', () => {
    const bad = asSudoRuns(['--prefx', '/srv/portent']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("install-service: unknown argument '--prefx' (see --help)\n");
    // A copy nobody can read, wherever the checkout is.
    const dir = tempDir();
    fs.chmodSync(dir, 0o755);
    const copy = path.join(dir, 'install-service.sh');
    fs.copyFileSync(SCRIPT, copy);
    fs.chmodSync(copy, 0o644);
    const asUser = process.getuid?.() === 0 ? spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', copy], { cwd: '/', encoding: 'utf8' }) : spawnSync('bash', [copy], { encoding: 'utf8' });
    expect(asUser.status).toBe(1);
    expect(asUser.stderr).toMatch(/^install-service: run it as root \(sudo bash scripts\/install-service\.sh\)[^\n]*\n$/);
  });

  it.skipIf(blocked !== null)(
    `installs the service as docs/service.md says, which runs, captures through the capture helper alone, stops cleanly and is removed (${blocked ?? 'root, PORTENT_SYSTEM_TESTS=1'})`,
    async () => {
      const t0 = Date.now();
      installed = true;
      const install = asSudoRuns();
      console.log(`install-service.sh (${Date.now() - t0} ms):\n${install.stdout}${install.stderr}`);
      expect(install.stderr).toBe('');
      expect(install.status).toBe(0);

      expect(install.stdout).toContain('Created the system user portent.');

      // Running it again upgrades in place: a fresh copy, the same user, the data kept.
      fs.writeFileSync(path.join(PREFIX, 'stale'), '');
      fs.writeFileSync(path.join(STATE, 'kept'), '');
      const again = asSudoRuns();
      expect(again.stderr).toBe('');
      expect(again.status).toBe(0);
      expect(again.stdout).not.toContain('Created the system user');
      expect([fs.existsSync(path.join(PREFIX, 'stale')), fs.existsSync(path.join(STATE, 'kept'))]).toEqual([false, true]);
      fs.rmSync(path.join(STATE, 'kept'));

      // What was installed: the user, a root-owned tree with production packages only, the
      // capture helper for the group alone, and the unit from deploy/systemd.
      const who = account(USER);
      expect(who).toMatchObject({ home: STATE, shell: expect.stringMatching(/nologin$/) as string });
      const helper = `${PREFIX}/libexec/portent-capture`;
      expect(notRootOnly(PREFIX, [helper])).toEqual([]);
      const rt = fs.statSync(helper);
      expect({ uid: rt.uid, gid: rt.gid, mode: rt.mode & 0o7777 }).toEqual({ uid: 0, gid: groupId(USER), mode: 0o750 });
      const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
      const devOnly = Object.entries(lock.packages).filter(([, p]) => p.dev).map(([where]) => where);
      expect(devOnly.length).toBeGreaterThan(0);
      expect(devOnly.filter((where) => fs.existsSync(path.join(PREFIX, where)))).toEqual([]);
      const unitText = fs.readFileSync(UNIT, 'utf8');
      const exec = parseUnit(unitText).get('Service')?.get('ExecStart')?.[0] ?? '';
      const node = exec.split(' ')[0]!;
      expect(exec).toBe(`${node} ${PREFIX}/out/main/cli.js run`);
      expect(unitText).toBe(fs.readFileSync(TEMPLATE, 'utf8').replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${node} `));

      // Started from the installed unit.
      let mainPid: number;
      if (systemdRuns) {
        const shown = () => Number(spawnSync('systemctl', ['show', '-p', 'MainPID', '--value', 'portent.service'], { encoding: 'utf8' }).stdout.trim());
        for (let i = 0; i < 20 && !shown(); i++) await sleep(500);
        mainPid = shown();
      } else {
        service = startAsSystemdWould(unitText);
        mainPid = service.pid;
      }
      expect(mainPid).toBeGreaterThan(0);

      // Up, with a recorded round: rounds are aligned to the minute, so the first one comes
      // within about 60 s of the start.
      let status = '';
      for (const deadline = Date.now() + 100_000; Date.now() < deadline; await sleep(3000)) {
        status = statusAsService(node);
        if (/^Last round: +\d{4}-/m.test(status) || (service && service.child.exitCode !== null)) break;
      }
      console.log(`status as ${USER}, ${Math.round((Date.now() - t0) / 1000)} s in:\n${status}`);
      expect(status, service?.output()).toMatch(/^Monitoring: +running since \d{4}-/m);
      expect(status).toMatch(/^Last round: +\d{4}-\d\d-\d\dT[\d:]+Z, \d+ sockets$/m);
      expect(status).toMatch(/^Capture: +on \S+$/m);

      // With the capture helper, the capture child that decodes is a thread of the monitor (no
      // pid of its own), and the helper, started from the file with the capabilities, is the
      // monitor's child; once capture runs, neither holds a capability.
      const on = logLines().find((l) => l.msg === 'packet capture on') as { pid: number | null; helper: string } | undefined;
      expect(on?.helper).toBe(helper);
      expect(on?.pid).toBeNull();
      const helperPid = childPids(mainPid).find((pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === helper);
      expect(helperPid).toBeDefined();
      expect(ppidOf(helperPid!)).toBe(mainPid);
      const main = processCapabilities(mainPid);
      const helped = processCapabilities(helperPid!);
      console.log(
        `${Math.round((Date.now() - t0) / 1000)} s in: monitor ${mainPid} (capture in its thread): CapEff ${main?.effective.toString(16)}; helper ${helperPid}: CapEff ${helped?.effective.toString(16)} CapPrm ${helped?.permitted.toString(16)}`,
      );
      expect(main).toEqual({ effective: 0n, permitted: 0n, ambient: 0n });
      // The unit's file system protections hold for the monitor: / read-only (ProtectSystem=strict).
      expect(fs.readFileSync(`/proc/${mainPid}/mounts`, 'utf8')).toMatch(/^\S+ \/ \S+ ro[, ]/m);
      expect(helped).toEqual({ effective: 0n, permitted: 0n, ambient: 0n });

      // An upgrade does not pull the files from under a monitor systemd does not manage.
      if (service) {
        const upgrade = asSudoRuns();
        console.log(`${Math.round((Date.now() - t0) / 1000)} s in: an upgrade under the running monitor refused`);
        expect(upgrade.status).toBe(1);
        expect(upgrade.stderr).toMatch(/^install-service: processes of the user portent still run \(pids [\d ]+\): stop them[^\n]*\n$/);
        expect(processCapabilities(mainPid)).not.toBeNull();
      }

      // Stopped as the unit says: the monitor ends with 0, stopping its capture itself, and
      // leaves no process behind.
      if (service) {
        const t1 = Date.now();
        const stopped = await service.stop();
        console.log(`${Math.round((Date.now() - t0) / 1000)} s in: stopped in ${Date.now() - t1} ms:\n${service.output().split('\n').slice(-6).join('\n')}`);
        expect(stopped, service.output()).toEqual({ code: 0, signal: null, left: [] });
      } else {
        expect(spawnSync('systemctl', ['stop', 'portent.service']).status).toBe(0);
        expect(spawnSync('systemctl', ['show', '-p', 'ExecMainStatus', '--value', 'portent.service'], { encoding: 'utf8' }).stdout.trim()).toBe('0');
        expect(processesOf(who!.uid)).toEqual([]);
      }
      const log = logLines();
      const stopping = log.slice(log.findIndex((l) => l.msg === 'stopping'));
      expect(stopping.map((l) => l.msg)).toContain('monitor stopped');
      expect(stopping.filter((l) => /fail|error/i.test(l.msg))).toEqual([]);

      // Removed, data and user too.
      const removal = asSudoRuns(['--remove', '--purge']);
      console.log(`${Math.round((Date.now() - t0) / 1000)} s in: install-service.sh --remove --purge:\n${removal.stdout}${removal.stderr}`);
      expect(removal.stderr).toBe('');
      expect(removal.status).toBe(0);
      expect([PREFIX, UNIT, STATE].filter((p) => fs.existsSync(p))).toEqual([]);
      expect(account(USER)).toBeNull();
      expect(groupId(USER)).toBeNull();
      expect(processesOf(who!.uid)).toEqual([]);
      installed = false;
      console.log(`installed, ran, stopped and removed in ${Math.round((Date.now() - t0) / 1000)} s`);
    },
    200_000,
  );
});
