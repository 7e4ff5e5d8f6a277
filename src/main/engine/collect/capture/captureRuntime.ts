/**
 * Who holds the right to capture. On Linux that right is a capability (CAP_NET_RAW, plus
 * CAP_NET_ADMIN to size the kernel ring), and it should belong to the capture process alone,
 * the way Wireshark gives it to dumpcap and not to its GUI: not to the monitor, its HTTP server,
 * the engine or the window.
 *
 * A capability given to a service's whole process tree (systemd's AmbientCapabilities) or to an
 * interpreter (setcap on Node or Electron) reaches every process started from it. So Portent
 * starts its capture process with its own executable, the capture runtime: a copy of the Node
 * runtime at `<install>/libexec/portent-capture` that carries the two capabilities as file
 * capabilities, owned by root and executable by one group only (`portent capture-setup`
 * installs it). Every other Portent process runs without any capability.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { portentLine } from '../../invocation';

export const CAPTURE_RUNTIME_NAME = 'portent-capture';

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

/** Where `capture-setup` installs the capture runtime of the installation at `root`. */
export function defaultCaptureRuntimePath(root: string | null = packageRoot()): string | null {
  return root === null ? null : path.join(root, 'libexec', CAPTURE_RUNTIME_NAME);
}

/** The capture runtime to start capture with, when one is installed and this user may run it. */
export function installedCaptureRuntime(file: string | null = defaultCaptureRuntimePath()): string | null {
  if (file === null) return null;
  try {
    accessSync(file, constants.X_OK);
    return file;
  } catch {
    return null;
  }
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
  return `this process holds ${held.join(' and ')}, which only the capture process needs; install the capture runtime (portent capture-setup) and remove the capabilities from this program or its service unit (docs/service.md)`;
}

/**
 * A warning when the capture runtime is a different Node than the one running Portent (Node was
 * upgraded after `capture-setup`, and the copy did not follow: it misses the upgrade's fixes, and
 * a native addon built for the new Node may not load in it), or null.
 */
export function runtimeVersionWarning(runtime: string, version: string = process.version): string | null {
  const r = spawnSync(runtime, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const theirs = r.status === 0 ? r.stdout.trim() : null;
  if (theirs === version) return null;
  return theirs === null
    ? `the capture runtime ${runtime} does not run (${r.error?.message ?? `exit ${r.status ?? r.signal}`}); run \`${portentLine('capture-setup')}\` as root again`
    : `the capture runtime ${runtime} is Node ${theirs}, Portent runs on ${version}: run \`${portentLine('capture-setup')}\` as root again to copy the current one`;
}
