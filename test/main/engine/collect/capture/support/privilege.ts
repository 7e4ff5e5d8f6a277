import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';

const CAP_NET_RAW = 13;

/** Whether this process may open a packet capture, and if not, why (for the skip message). */
export function captureAllowed(): { ok: boolean; reason: string } {
  if (process.platform === 'linux') {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapEff:'));
    const eff = BigInt(`0x${line?.split(/\s+/)[1] ?? '0'}`);
    const ok = ((eff >> BigInt(CAP_NET_RAW)) & 1n) === 1n;
    return { ok, reason: ok ? '' : 'needs root or CAP_NET_RAW to capture on lo' };
  }
  try {
    accessSync('/dev/bpf0', constants.R_OK | constants.W_OK);
    return { ok: true, reason: '' };
  } catch {
    return { ok: false, reason: 'needs read/write access to /dev/bpf*' };
  }
}

/** Why a test cannot run a child with fewer rights through setpriv (util-linux), or null. */
export function setprivUnavailable(): string | null {
  if (process.platform !== 'linux') return 'drops rights with setpriv, which is Linux-only';
  if (process.getuid?.() !== 0) return 'must run as root to drop rights with setpriv';
  try {
    execFileSync('setpriv', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'setpriv (util-linux) is not installed';
  }
  return null;
}
