import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { builtCaptureHelper, CAPTURE_HELPER_NAME, defaultCaptureHelperPath } from '../../engine/collect/capture/captureHelper';
import { UsageError, type Command, type CommandContext } from '../command';

/** The file capabilities the capture helper carries (Linux): the two capture needs, nothing else. */
export const HELPER_CAPABILITIES = 'cap_net_admin,cap_net_raw=ep';

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
  throw new UsageError('--group GROUP is required: the group whose members may start the capture helper (the service\'s group on a server, your own on a desktop)');
}

function targetOption(ctx: CommandContext): string {
  const raw = ctx.values.helper;
  if (raw !== undefined) {
    if (typeof raw !== 'string' || raw.trim() === '') throw new UsageError('--helper needs a path');
    if (path.basename(raw) !== CAPTURE_HELPER_NAME) throw new UsageError(`--helper must name a file called ${CAPTURE_HELPER_NAME}; got '${raw}'`);
    return path.resolve(raw);
  }
  const file = defaultCaptureHelperPath();
  if (file === null) throw new UsageError("cannot find Portent's folder (its package.json); give --helper PATH");
  return file;
}

function setcap(file: string): void {
  try {
    execFileSync('setcap', [HELPER_CAPABILITIES, file], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new UsageError('setcap is not installed: install libcap2-bin (Debian, Ubuntu) or libcap (Fedora, Arch) and run this again');
    throw new UsageError(`setcap failed on ${file}: ${err.stderr?.toString().trim() || err.message} (a file system mounted nosuid, or one without extended attributes, cannot carry file capabilities)`);
  }
}

/**
 * Installs the capture helper: the built native/capture program, owned by root and executable by
 * root and one group, with CAP_NET_RAW and CAP_NET_ADMIN as file capabilities on Linux, setuid
 * root on macOS (where /dev/bpf* is root's). Portent opens its captures through it, so that
 * nothing else needs a privilege. Written beside the target and renamed over it, so a running
 * capture keeps its file and a failure leaves the old helper in place.
 */
export function installCaptureHelper(target: string, gid: number, source: string, platform: NodeJS.Platform = process.platform): { privilege: string } {
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  const temp = `${target}.new-${process.pid}`;
  try {
    fs.copyFileSync(source, temp);
    fs.chownSync(temp, 0, gid);
    if (platform === 'darwin') {
      fs.chmodSync(temp, 0o4750);
    } else {
      fs.chmodSync(temp, 0o750);
      setcap(temp);
    }
    fs.renameSync(temp, target);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw e;
  }
  if (platform === 'darwin') return { privilege: 'setuid root (it returns to the caller\'s user once the capture is open)' };
  const shown = spawnSync('getcap', [target], { encoding: 'utf8' });
  const capabilities = shown.status === 0 ? shown.stdout.trim().replace(`${target} `, '') : '';
  if (!/cap_net_admin/.test(capabilities) || !/cap_net_raw/.test(capabilities)) {
    throw new UsageError(`${target} was installed but does not show its capabilities (getcap: '${capabilities || shown.stderr.trim()}')`);
  }
  return { privilege: `capabilities ${capabilities} (emptied once the capture is open)` };
}

export const captureSetupCommand: Command = {
  name: 'capture-setup',
  summary: 'Install (as root) the capture helper: the one program that may open a packet capture',
  usage: '[--group GROUP] [--helper PATH] [--remove]',
  options: { group: { type: 'string' }, helper: { type: 'string' }, remove: { type: 'boolean' } },
  run(ctx) {
    if (process.platform !== 'linux' && process.platform !== 'darwin') throw new UsageError(`capture-setup is for Linux and macOS, not ${process.platform}`);
    const target = targetOption(ctx);
    if (process.getuid?.() !== 0) throw new UsageError(`capture-setup must run as root (sudo), as it gives ${target} the right to capture`);
    if (ctx.values.remove) {
      const existed = fs.existsSync(target);
      fs.rmSync(target, { force: true });
      ctx.stdout.write(existed ? `Removed ${target}; packet capture now needs privileges for Portent's capture process itself.\n` : `${target} was not installed.\n`);
      return Promise.resolve(0);
    }
    const group = groupOption(ctx);
    const source = builtCaptureHelper();
    if (source === null) throw new UsageError('the capture helper is not built (node_modules/portent-capture/build/Release/portent-capture): run `npm ci` in Portent\'s folder (it needs libpcap-dev and a C compiler)');
    const { privilege } = installCaptureHelper(target, group.gid, source);
    ctx.stdout.write(
      [
        `Installed the capture helper ${target}:`,
        `  a copy of ${source}, owner root, group ${group.name}, mode ${process.platform === 'darwin' ? '4750' : '0750'}, ${privilege}.`,
        `Portent opens its captures through it; members of ${group.name} who run Portent can capture, and no Portent process holds a privilege.`,
        'Take privileges away from anything else (AmbientCapabilities in a service unit, setcap on node or on the app).',
        'Run this again after upgrading Portent: the helper is checked against the version it speaks.',
        '',
      ].join('\n'),
    );
    return Promise.resolve(0);
  },
};
