/**
 * Why a capture could not start, in words a user can act on. Capture being off is a normal,
 * reported state (the rest of Portent keeps working), so every failure becomes a CaptureError
 * with a kind for code and a message plus remedies for people.
 */
import path from 'node:path';
import { CAPTURE_HELPER_NAME, SYSTEM_CAPTURE_HELPER } from './captureHelper';
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

/** Where a desktop package ships the helper, unprivileged, for the user to install (electron-builder.yml). */
function shippedHelper(): string | null {
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  return process.versions.electron !== undefined && resources ? path.join(resources, CAPTURE_HELPER_NAME) : null;
}

/**
 * How to let Portent capture, for the platform it runs on: the right goes to the capture helper
 * alone (captureHelper.ts), never to Portent's own processes. `execPath` is the program that
 * failed to open the capture: the helper itself when one is installed.
 */
export function permissionRemedy(platform: NodeJS.Platform, execPath: string, shipped: string | null = shippedHelper()): string[] {
  const installed = path.basename(execPath) === CAPTURE_HELPER_NAME;
  if (platform === 'darwin') {
    if (installed) {
      return [`The capture helper ${execPath} could not open /dev/bpf: it must be owned by root and setuid (mode 4750); install it again as root.`];
    }
    const from = shipped ?? 'the built helper (node_modules/portent-capture/build/Release/portent-capture)';
    return [
      `Install the capture helper, which opens /dev/bpf as root and returns to your user before it reads a packet: sudo install -o root -g $(id -gn) -m 4750 ${from} ${SYSTEM_CAPTURE_HELPER}` +
        (shipped ? '' : ` (or \`sudo ${portentLine('capture-setup --group GROUP')}\`)`) +
        '. Portent uses it at its next start; nothing else gets the right.',
    ];
  }
  if (installed) {
    return [
      `The capture helper ${execPath} ran without its capabilities.`,
      `Install it again as root (\`${portentLine('capture-setup --group GROUP')}\`; replacing or upgrading the file drops its file capabilities),`,
      'and do not start Portent with NoNewPrivileges=yes or from a nosuid mount: the kernel ignores file capabilities there.',
    ];
  }
  if (shipped) {
    return [
      'Only the capture helper needs the right to capture; the app, its window and its capture process never hold it.',
      `Install the helper the app ships, as root: sudo install -o root -g $(id -gn) -m 0750 ${shipped} ${SYSTEM_CAPTURE_HELPER} && sudo setcap cap_net_raw,cap_net_admin=ep ${SYSTEM_CAPTURE_HELPER}`,
      'then restart Portent.',
    ];
  }
  return [
    'Only the capture helper needs the right to capture (CAP_NET_RAW and CAP_NET_ADMIN).',
    `Install it once, as root: \`${portentLine('capture-setup --group GROUP')}\` installs libexec/portent-capture in Portent's folder with those two capabilities, executable by root and GROUP only (your own group on a desktop, the service's on a server; see docs/service.md).`,
    'It opens the capture and drops them before it reads a packet; the monitor, its capture process, its web server and the window keep no capability.',
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
