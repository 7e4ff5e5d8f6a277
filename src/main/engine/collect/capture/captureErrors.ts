/**
 * Why a capture could not start, in words a user can act on. Capture being off is a normal,
 * reported state (the rest of Portent keeps working), so every failure becomes a CaptureError
 * with a kind for code and a message plus remedies for people.
 */

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

/** How to let a non-root process capture, for the platform it runs on. */
export function permissionRemedy(platform: NodeJS.Platform, execPath: string): string[] {
  if (platform === 'darwin') {
    return [
      'Give your user read/write access to /dev/bpf*: install the ChmodBPF launch daemon that ships with Wireshark (it creates the access_bpf group and adds you to it), then log out and back in.',
    ];
  }
  return [
    'Grant the CAP_NET_RAW capability (nothing more is needed).',
    'As a systemd service: put AmbientCapabilities=CAP_NET_RAW in its [Service] section.',
    `Otherwise: sudo setcap cap_net_raw=eip ${execPath} (every script that program runs may then capture; the GUI itself must still not run as root).`,
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
