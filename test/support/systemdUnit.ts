/**
 * Starts the service of an installed systemd unit file the way systemd would, on a machine where
 * systemd is not PID 1 (CI containers): as the unit's user and group with their supplementary
 * groups, no inheritable capability, the unit's capability bounding set, a clean environment
 * (PATH, HOME, USER, LOGNAME, SHELL, then Environment=), its StateDirectory, its working directory
 * entered as that user, and its file system protections (ProtectSystem=strict with
 * ReadWritePaths, ProtectHome, PrivateTmp) in a mount namespace of its own. Stopping it follows
 * KillMode, KillSignal and TimeoutStopSec.
 *
 * A directive this file does not know makes it throw, so a change to the unit is either
 * emulated here or listed as not emulated on purpose.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

/** The [Service] directives carried out below. */
const EMULATED = new Set(['Type', 'User', 'Group', 'WorkingDirectory', 'Environment', 'ExecStart', 'KillSignal', 'KillMode', 'TimeoutStopSec', 'CapabilityBoundingSet', 'NoNewPrivileges', 'StateDirectory', 'StateDirectoryMode', 'ProtectSystem', 'ReadWritePaths', 'ProtectHome', 'PrivateTmp']);
/** Directives that restrict or restart the service without changing whether it starts and runs cleanly here. */
const NOT_EMULATED = new Set(['Restart', 'RestartSec', 'RestrictSUIDSGID', 'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectControlGroups', 'RestrictAddressFamilies', 'LockPersonality', 'MemoryMax']);
/** systemd's PATH for services (without the /sbin and /bin that merged-/usr systems link anyway). */
const SERVICE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export type UnitFile = Map<string, Map<string, string[]>>;

/** Sections of a unit file, each a map from directive to its values in order. */
export function parseUnit(text: string): UnitFile {
  const unit: UnitFile = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (!section || eq < 1 || line.endsWith('\\')) throw new Error(`unit line not understood: ${line}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

export interface Account {
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export function account(user: string): Account | null {
  const r = spawnSync('getent', ['passwd', user], { encoding: 'utf8' });
  const f = r.status === 0 ? r.stdout.trim().split(':') : null;
  return f ? { uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]! } : null;
}

export function groupId(group: string): number | null {
  const r = spawnSync('getent', ['group', group], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.split(':')[2]) : null;
}

/** Pids of the processes whose real uid is `uid`. */
export function processesOf(uid: number): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === uid) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** "30s", "1min 30s", "90" (seconds) as milliseconds. */
function timespan(value: string): number {
  let ms = 0;
  for (const [, n, unit] of value.matchAll(/(\d+)\s*(ms|s|sec|min|m)?/g)) {
    ms += Number(n) * (unit === 'ms' ? 1 : unit === 'min' || unit === 'm' ? 60_000 : 1000);
  }
  return ms;
}

/** Whitespace-separated words, with "double quoted" words kept whole. */
function words(value: string): string[] {
  return [...value.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

export interface RunningService {
  /** The service's main process: ExecStart's program once exec'd. */
  pid: number;
  child: ChildProcess;
  /** What it wrote to stdout and stderr (the journal, under systemd). */
  output: () => string;
  /** Stops it as systemd would; resolves with its exit and the processes of its user still alive after it. */
  stop: () => Promise<{ code: number | null; signal: NodeJS.Signals | null; left: number[] }>;
}

export function startAsSystemdWould(unitText: string): RunningService {
  const service = parseUnit(unitText).get('Service');
  if (!service) throw new Error('the unit has no [Service] section');
  for (const key of service.keys()) {
    if (!EMULATED.has(key) && !NOT_EMULATED.has(key)) throw new Error(`${key}= is neither emulated by this test nor listed as not emulated: teach test/support/systemdUnit.ts about it`);
  }
  const one = (key: string): string | undefined => service.get(key)?.at(-1);
  const required = (key: string): string => {
    const v = one(key);
    if (!v) throw new Error(`the unit sets no ${key}=`);
    return v;
  };
  const expect = (key: string, allowed: (string | undefined)[]) => {
    if (!allowed.includes(one(key))) throw new Error(`${key}=${one(key)} is not emulated (only ${allowed.map((a) => a ?? '(unset)').join(', ')})`);
  };
  expect('Type', [undefined, 'simple', 'exec']);
  expect('NoNewPrivileges', [undefined, 'no', 'false']);
  expect('ProtectSystem', [undefined, 'no', 'strict']);
  expect('ProtectHome', [undefined, 'no', 'yes']);
  expect('PrivateTmp', [undefined, 'no', 'yes']);
  expect('KillMode', [undefined, 'control-group', 'mixed', 'process']);

  const user = required('User');
  const who = account(user);
  if (!who) throw new Error(`the unit's user ${user} does not exist`);
  const group = one('Group') ?? user;
  const gid = groupId(group);
  if (gid === null) throw new Error(`the unit's group ${group} does not exist`);
  const exec = words(required('ExecStart'));
  if (!exec[0]?.startsWith('/')) throw new Error(`ExecStart must start with an absolute path (prefixes such as - + ! @ are not emulated): ${exec[0]}`);

  // StateDirectory=: /var/lib/NAME, owned by the user, with its mode, made before the start.
  for (const name of words(one('StateDirectory') ?? '')) {
    const dir = `/var/lib/${name}`;
    fs.mkdirSync(dir, { recursive: true });
    fs.chownSync(dir, who.uid, gid);
    fs.chmodSync(dir, parseInt(one('StateDirectoryMode') ?? '0755', 8));
  }

  const mounts: string[] = [];
  if (one('ProtectSystem') === 'strict') {
    // Everything read-only but the kernel's API file systems, then the writable paths put back.
    const points = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((p): p is string => !!p);
    for (const p of new Set(points)) {
      if (/^\/(proc|sys|dev)(\/|$)/.test(p) || p.includes('\\')) continue;
      mounts.push(`mount -o remount,bind,ro '${p}'`);
    }
    for (const p of (service.get('ReadWritePaths') ?? []).flatMap(words)) mounts.push(`mount --bind '${p}' '${p}'`, `mount -o remount,bind,rw '${p}'`);
  }
  if (one('PrivateTmp') === 'yes') for (const p of ['/tmp', '/var/tmp']) mounts.push(`mount -t tmpfs -o mode=1777 tmpfs ${p}`);
  if (one('ProtectHome') === 'yes') for (const p of ['/home', '/root', '/run/user']) if (fs.existsSync(p)) mounts.push(`mount -t tmpfs -o ro,mode=000 tmpfs ${p}`);

  const env = [`PATH=${SERVICE_PATH}`, `HOME=${who.home}`, `USER=${user}`, `LOGNAME=${user}`, `SHELL=${who.shell}`, ...(service.get('Environment') ?? []).flatMap(words)];
  const bounding = one('CapabilityBoundingSet');
  const caps = bounding === undefined ? [] : [`--bounding-set=-all${words(bounding).map((c) => `,+${c.toLowerCase().replace(/^cap_/, '')}`).join('')}`];
  const drop = ['setpriv', `--reuid=${who.uid}`, `--regid=${gid}`, '--init-groups', '--inh-caps=-all', ...caps];
  // The working directory is entered as the user, as systemd does: a folder the user cannot
  // enter fails the start here too.
  const enter = ['/bin/sh', '-c', 'cd -- "$0" && exec "$@"', one('WorkingDirectory') ?? who.home];
  const script = `set -e\n${mounts.join('\n')}\nexec "$@"`;
  const child = spawn('unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', script, 'unit', ...drop, '/usr/bin/env', '-i', ...env, ...enter, ...exec], { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const signal = (one('KillSignal') ?? 'SIGTERM') as NodeJS.Signals;
  const mode = one('KillMode') ?? 'control-group';
  const timeout = timespan(one('TimeoutStopSec') ?? '90s');
  const kill = (pids: number[], sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone.
      }
    }
  };
  return {
    pid: child.pid ?? -1,
    child,
    output: () => output,
    async stop() {
      // The unit's processes are its user's: a system user made for it runs nothing else.
      kill(mode === 'control-group' ? processesOf(who.uid) : [child.pid ?? -1], signal);
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([exited, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeout)))]);
      clearTimeout(timer);
      const left = processesOf(who.uid);
      // Past the timeout, or (KillMode=mixed, control-group) whatever outlived the main process: SIGKILL.
      if (result === null || mode !== 'process') kill(left, 'SIGKILL');
      const final = result ?? (await exited);
      return { ...final, left };
    },
  };
}
