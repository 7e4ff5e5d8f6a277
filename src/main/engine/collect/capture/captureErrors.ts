/**
 * Why a capture could not start, in words a user can act on. Capture being off is a normal,
 * reported state (the rest of Portent keeps working), so every failure becomes a CaptureError
 * with a kind for code and a message plus remedies for people.
 */
import path from 'node:path';
import { CAPTURE_RUNTIME_NAME } from './captureRuntime';
import { portentLine } from '../../invocation';

export type CaptureErrorKind =
  | 'permission-denied'
  | 'bad-filter'
  | 'no-such-interface'
  | 'no-default-interface'
  | 'binding-unavailable'
  | 'unsupported-link-type'
  | 'open-failed';

export interface CaptureOffState {
  capturing: false;
  kind: CaptureErrorKind;
  iface: string | null;
  message: string;
  remedy: string[];
}

export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  /** The first sentence of the message, without the remedies. */
  readonly summary: string;

  constructor(
    readonly kind: CaptureErrorKind,
    readonly iface: string | null,
    summary: string,
    readonly remedy: string[] = [],
    readonly detail: string | null = null,
  ) {
    super(remedy.length ? `${summary}. ${remedy.join(' ')}` : summary);
    this.summary = summary;
  }

  toState(): CaptureOffState {
    return { capturing: false, kind: this.kind, iface: this.iface, message: this.summary, remedy: this.remedy };
  }
}

const PERMISSION = /permission|not permitted|EPERM|EACCES|cannot open BPF device/i;
const NO_DEVICE = /no such device|doesn't exist|does not exist|SIOCGIFHWADDR|no such file/i;

/**
 * How to let a non-root process capture, for the platform it runs on. `execPath` is the
 * executable of the process that failed to open the capture: the capture runtime itself when it
 * is installed (see captureRuntime.ts).
 */
export function permissionRemedy(platform: NodeJS.Platform, execPath: string): string[] {
  if (platform === 'darwin') {
    return [
      'Give your user read/write access to /dev/bpf*: install the ChmodBPF launch daemon that ships with Wireshark (it creates the access_bpf group and adds you to it), then log out and back in.',
    ];
  }
  if (process.versions.electron !== undefined && path.basename(execPath) !== CAPTURE_RUNTIME_NAME) {
    return [
      'The desktop app cannot yet give the right to capture to its capture process alone.',
      'Either run the headless monitor as a service with the capture runtime (docs/service.md, nothing else gets the right),',
      `or grant it to the app: sudo setcap cap_net_raw,cap_net_admin=eip ${execPath} (every process of the app then holds it; never run the app as root).`,
    ];
  }
  if (path.basename(execPath) === CAPTURE_RUNTIME_NAME) {
    return [
      `The capture runtime ${execPath} ran without its capabilities.`,
      `Run \`${portentLine('capture-setup')}\` as root again (replacing or upgrading the file drops its file capabilities),`,
      'and do not start Portent with NoNewPrivileges=yes or from a nosuid mount: the kernel ignores file capabilities there.',
    ];
  }
  return [
    'Only the capture process needs the right to capture (CAP_NET_RAW and CAP_NET_ADMIN).',
    `Install the capture runtime once, as root: \`${portentLine('capture-setup --group GROUP')}\` copies the Node runtime to libexec/portent-capture in Portent's folder with those two capabilities, executable by root and GROUP only (your own group on a desktop, the service's on a server; see docs/service.md).`,
    'Portent then starts its capture process with it; the monitor, its web server and the window keep no capability.',
  ];
}

/**
 * Turns what libpcap said into a CaptureError. `filterIsBad` is known only to the caller (it
 * reopens without the filter to tell a bad filter from any other failure).
 */
export function classifyOpenError(
  err: unknown,
  iface: string,
  filter: string,
  filterIsBad: boolean,
  platform: NodeJS.Platform = process.platform,
  execPath: string = process.execPath,
): CaptureError {
  const detail = err instanceof Error ? err.message : String(err);
  if (filterIsBad) {
    return new CaptureError('bad-filter', iface, `packet capture is off: invalid capture filter "${filter}" (${detail})`, [], detail);
  }
  if (PERMISSION.test(detail)) {
    return new CaptureError(
      'permission-denied',
      iface,
      `packet capture is off: permission denied on ${iface} (${detail})`,
      permissionRemedy(platform, execPath),
      detail,
    );
  }
  if (NO_DEVICE.test(detail)) {
    return new CaptureError('no-such-interface', iface, `packet capture is off: no interface named ${iface} (${detail})`, [], detail);
  }
  return new CaptureError('open-failed', iface, `packet capture is off: cannot open ${iface} (${detail})`, [], detail);
}
