import { LinuxSocketScanner, type LinuxScannerOptions } from './linuxSockets';
import { MacSocketScanner } from './macSockets';
import type { SocketScanner } from './types';

export type { ConnectionCount, Proto, RemotePortClass, Snapshot, SocketEntry, SocketScanner } from './types';

/** What a caller may choose about the scanner; the rest is each platform's business. */
export type ScannerOptions = Pick<LinuxScannerOptions, 'source' | 'log'>;

/** The scanner for this machine's kernel; anything but Linux and macOS is refused up front. */
export function createSocketScanner(platform: NodeJS.Platform = process.platform, options: ScannerOptions = {}): SocketScanner {
  switch (platform) {
    case 'linux':
      return new LinuxSocketScanner(options);
    case 'darwin':
      return new MacSocketScanner();
    default:
      throw new Error(`Portent cannot scan sockets on platform "${platform}": only Linux and macOS are supported.`);
  }
}
