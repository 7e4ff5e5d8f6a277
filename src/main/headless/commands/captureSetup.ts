import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CAPTURE_RUNTIME_NAME, defaultCaptureRuntimePath } from '../../engine/collect/capture/captureRuntime';
import { UsageError, type Command, type CommandContext } from '../command';

/** The file capabilities the capture runtime carries: the two capture needs, nothing else. */
export const RUNTIME_CAPABILITIES = 'cap_net_admin,cap_net_raw=ep';

/** A group by name or number, through the system's group database (files, LDAP, ...). */
export function groupOf(raw: string): { name: string; gid: number } {
  const r = spawnSync('getent', ['group', raw], { encoding: 'utf8' });
  if (r.error) throw new UsageError(`cannot look up group '${raw}': ${r.error.message}`);
  const fields = r.status === 0 ? r.stdout.trim().split('\n')[0]?.split(':') : undefined;
  const gid = fields ? Number(fields[2]) : NaN;
  if (!fields || !Number.isInteger(gid)) throw new UsageError(`no group named '${raw}' (see \`getent group\`)`);
  return { name: fields[0] ?? raw, gid };
}

function groupOption(ctx: CommandContext): { name: string; gid: number } {
  const raw = ctx.values.group;
  if (typeof raw === 'string' && raw.trim() !== '') return groupOf(raw.trim());
  if (raw !== undefined) throw new UsageError('--group needs a group name or number');
  // Run through sudo: the invoking user's own group.
  const sudoGid = ctx.env.SUDO_GID;
  if (sudoGid && /^\d+$/.test(sudoGid)) return groupOf(sudoGid);
  throw new UsageError('--group GROUP is required: the group whose members may start the capture runtime (the service\'s group on a server, your own on a desktop)');
}

function targetOption(ctx: CommandContext): string {
  const raw = ctx.values.runtime;
  if (raw !== undefined) {
    if (typeof raw !== 'string' || raw.trim() === '') throw new UsageError('--runtime needs a path');
    if (path.basename(raw) !== CAPTURE_RUNTIME_NAME) throw new UsageError(`--runtime must name a file called ${CAPTURE_RUNTIME_NAME}; got '${raw}'`);
    return path.resolve(raw);
  }
  const file = defaultCaptureRuntimePath();
  if (file === null) throw new UsageError("cannot find Portent's folder (its package.json); give --runtime PATH");
  return file;
}

function setcap(file: string): void {
  try {
    execFileSync('setcap', [RUNTIME_CAPABILITIES, file], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new UsageError('setcap is not installed: install libcap2-bin (Debian, Ubuntu) or libcap (Fedora, Arch) and run this again');
    throw new UsageError(`setcap failed on ${file}: ${err.stderr?.toString().trim() || err.message} (a file system mounted nosuid, or one without extended attributes, cannot carry file capabilities)`);
  }
}

/**
 * Installs the capture runtime: a copy of the Node runtime that runs Portent, owned by root,
 * executable by root and one group, with CAP_NET_RAW and CAP_NET_ADMIN as file capabilities.
 * Portent starts its capture process with it, so that nothing else needs a capability. Written
 * beside the target and renamed over it, so a running capture keeps its file and a failure
 * leaves the old runtime in place.
 */
export function installCaptureRuntime(target: string, gid: number, source: string = fs.realpathSync(process.execPath)): { capabilities: string } {
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  const temp = `${target}.new-${process.pid}`;
  try {
    fs.copyFileSync(source, temp);
    fs.chownSync(temp, 0, gid);
    fs.chmodSync(temp, 0o750);
    setcap(temp);
    fs.renameSync(temp, target);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e;
  }
  const shown = spawnSync('getcap', [target], { encoding: 'utf8' });
  const capabilities = shown.status === 0 ? shown.stdout.trim().replace(`${target} `, '') : '';
  if (!/cap_net_admin/.test(capabilities) || !/cap_net_raw/.test(capabilities)) {
    throw new UsageError(`${target} was installed but does not show its capabilities (getcap: '${capabilities || shown.stderr.trim()}')`);
  }
  return { capabilities };
}

export const captureSetupCommand: Command = {
  name: 'capture-setup',
  summary: 'Install (as root) the capture runtime: the one executable that may capture packets (Linux)',
  usage: '[--group GROUP] [--runtime PATH] [--remove]',
  options: { group: { type: 'string' }, runtime: { type: 'string' }, remove: { type: 'boolean' } },
  run(ctx) {
    if (process.platform !== 'linux') {
      throw new UsageError('capture-setup is for Linux. On macOS capture needs read/write access to /dev/bpf*, which is given to a group of users (Wireshark\'s ChmodBPF), not to a program.');
    }
    const target = targetOption(ctx);
    if (process.getuid?.() !== 0) throw new UsageError(`capture-setup must run as root (sudo), as it gives ${target} the right to capture`);
    if (ctx.values.remove) {
      const existed = fs.existsSync(target);
      fs.rmSync(target, { force: true });
      ctx.stdout.write(existed ? `Removed ${target}; packet capture now needs privileges for the monitor itself.\n` : `${target} was not installed.\n`);
      return Promise.resolve(0);
    }
    const group = groupOption(ctx);
    const source = fs.realpathSync(process.execPath);
    const { capabilities } = installCaptureRuntime(target, group.gid, source);
    ctx.stdout.write(
      [
        `Installed the capture runtime ${target}:`,
        `  a copy of ${source} (Node ${process.version}), owner root, group ${group.name}, mode 0750, capabilities ${capabilities}.`,
        `Portent's capture process starts with it; members of ${group.name} who run Portent can capture, and no other Portent process holds a capability.`,
        'Take capabilities away from anything else (AmbientCapabilities in a service unit, setcap on node).',
        'Run this again after upgrading Node: the copy does not follow the upgrade.',
        '',
      ].join('\n'),
    );
    return Promise.resolve(0);
  },
};
