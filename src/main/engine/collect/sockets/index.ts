import { LinuxSocketScanner } from './linuxSockets';
import { MacSocketScanner } from './macSockets';
import type { SocketScanner } from './types';

export type { ConnectionCount, Proto, RemotePortClass, Snapshot, SocketEntry, SocketScanner } from './types';

/** The scanner for this machine's kernel; anything but Linux and macOS is refused up front. */
export function createSocketScanner(platform: NodeJS.Platform = process.platform): SocketScanner {
  switch (platform) {
    case 'linux':
      return new LinuxSocketScanner();
    case 'darwin':
      return new MacSocketScanner();
    default:
      throw new Error(`Portent cannot scan sockets on platform "${platform}": only Linux and macOS are supported.`);
  }
}
