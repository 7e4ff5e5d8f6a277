/**
 * Who holds the right to capture. On Linux that right is a capability (CAP_NET_RAW, plus
 * CAP_NET_ADMIN to size the kernel ring), and it should belong to one small program alone, the
 * way Wireshark gives it to dumpcap and not to its GUI: not to the monitor, its HTTP server, the
 * engine, the capture process that decodes packets, or the window.
 *
 * A capability given to a service's whole process tree (systemd's AmbientCapabilities) or to an
 * interpreter (setcap on Node or Electron) reaches every process started from it. So Portent
 * opens its captures through the capture helper (native/capture/portent-capture.c): a C program
 * of a few hundred lines that opens the capture, empties its capability sets (or, setuid,
 * returns to the caller's user) before it reads a packet, and copies the frames to the capture
 * process, which decodes them without any privilege (helperSource.ts). `portent capture-setup`
 * installs it at `<install>/libexec/portent-capture` with the two capabilities as file
 * capabilities, owned by root and executable by one group only. It is the same program for the
 * headless monitor and the desktop app, whatever runtime they run on.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { portentLine } from '../../invocation';

export const CAPTURE_HELPER_NAME = 'portent-capture';

/** The version of the stream the helper writes (helperSource.ts); a helper of another version is refused. */
export const HELPER_PROTOCOL_VERSION = 1;

/** The capabilities capture needs, by their number in the kernel's capability sets. */
export const CAPTURE_CAPABILITIES = { cap_net_admin: 12, cap_net_raw: 13 } as const;

/** The directory of Portent's package.json, found upwards from `from` (a module's directory). */
export function packageRoot(from: string = path.dirname(fileURLToPath(import.meta.url))): string | null {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'portent') return dir;
      } catch {
        // Not a manifest Portent can read: keep looking upwards.
      }
    }
    if (path.dirname(dir) === dir) return null;
  }
}

/** Where `capture-setup` installs the capture helper of the installation at `root`. */
export function defaultCaptureHelperPath(root: string | null = packageRoot()): string | null {
  return root === null ? null : path.join(root, 'libexec', CAPTURE_HELPER_NAME);
}

/**
 * Where a desktop install puts the helper (the app's own folder is read-only, or inside an
 * archive): the system's place for programs other programs run, as /usr/libexec holds dumpcap's
 * kin.
 */
export const SYSTEM_CAPTURE_HELPER = path.join('/usr/local/libexec', CAPTURE_HELPER_NAME);

/**
 * The installed capture helper this user may run: the installation's own
 * (`<install>/libexec/portent-capture`), else the system one; null when there is none.
 */
export function installedCaptureHelper(candidates: (string | null)[] = [defaultCaptureHelperPath(), SYSTEM_CAPTURE_HELPER]): string | null {
  for (const file of candidates) {
    if (file === null) continue;
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not there, or not for this user: try the next.
    }
  }
  return null;
}

/**
 * The capture helper the monitor uses: the installed one; else, for root, the one built with this
 * installation. Root needs no setcap or setuid to open a capture, and through the helper libpcap
 * runs in a small program that gives up every capability before it reads a packet, instead of
 * in a second Node process that keeps root's; the decoding is then a thread of the monitor, which
 * also saves the second process's memory (docs/architecture.md, "Footprint at idle"). Null: cap
 * in a capture process of its own.
 */
export function chooseCaptureHelper(uid: number | null = process.getuid?.() ?? null, installed: () => string | null = installedCaptureHelper, built: () => string | null = builtCaptureHelper): string | null {
  return installed() ?? (uid === 0 ? built() : null);
}

export interface ProcessCapabilities {
  effective: bigint;
  permitted: bigint;
  ambient: bigint;
}

/** A process's capability sets from /proc (Linux); null elsewhere or when the process is gone. */
export function processCapabilities(pid: number | 'self' = 'self'): ProcessCapabilities | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const field = (name: string): bigint => {
    const m = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(text);
    return m ? BigInt(`0x${m[1]}`) : 0n;
  };
  return { effective: field('CapEff'), permitted: field('CapPrm'), ambient: field('CapAmb') };
}

/** Names of the capture capabilities in a capability mask, e.g. ['cap_net_raw']. */
export function captureCapabilitiesIn(mask: bigint): string[] {
  return Object.entries(CAPTURE_CAPABILITIES)
    .filter(([, bit]) => ((mask >> BigInt(bit)) & 1n) === 1n)
    .map(([name]) => name);
}

/**
 * A warning when this process holds capture capabilities it does not need (a unit that still
 * grants AmbientCapabilities, setcap on the interpreter), or null. Root is left alone: running as
 * root is a choice the warning cannot undo.
 */
export function excessCapabilityWarning(caps: ProcessCapabilities | null = processCapabilities(), uid: number | null = process.getuid?.() ?? null): string | null {
  if (caps === null || uid === 0) return null;
  const held = captureCapabilitiesIn(caps.permitted | caps.effective | caps.ambient);
  if (held.length === 0) return null;
  return `this process holds ${held.join(' and ')}, which only the capture helper needs; install the helper (portent capture-setup) and remove the capabilities from this program or its service unit (docs/service.md)`;
}

/**
 * A warning when the installed helper does not run, or speaks another stream version than this
 * Portent (Portent was upgraded and `capture-setup` not run again), or null.
 */
export function helperVersionWarning(helper: string): string | null {
  const r = spawnSync(helper, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) {
    return `the capture helper ${helper} does not run (${r.error?.message ?? (r.stderr.trim() || `exit ${r.status ?? r.signal}`)}); run \`${portentLine('capture-setup --group GROUP')}\` as root again`;
  }
  const m = /^portent-capture (\d+)/.exec(r.stdout);
  if (m && Number(m[1]) === HELPER_PROTOCOL_VERSION) return null;
  return `the capture helper ${helper} is not this version's (it says '${r.stdout.trim()}', Portent needs stream version ${HELPER_PROTOCOL_VERSION}): run \`${portentLine('capture-setup --group GROUP')}\` as root again`;
}

/** The helper built with this installation (native/capture), which capture-setup installs; null when not built. */
export function builtCaptureHelper(): string | null {
  try {
    const pkg = createRequire(import.meta.url)('portent-capture') as { builtHelper(): string | null };
    return pkg.builtHelper();
  } catch {
    return null;
  }
}
