/**
 * The machine's own addresses, which decide a flow's direction. Taken from the OS rather than
 * from libpcap because the OS also reports netmasks for every family and flags internal ones.
 */
import os from 'node:os';
import type { LocalAddresses } from './flows';

export function localAddressesFrom(interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>): LocalAddresses {
  const addresses = new Set<string>();
  const broadcasts = new Set<string>();
  for (const infos of Object.values(interfaces)) {
    for (const info of infos ?? []) {
      addresses.add(info.address);
      if (info.family === 'IPv4') {
        const broadcast = ipv4Broadcast(info.address, info.netmask);
        if (broadcast) broadcasts.add(broadcast);
      }
    }
  }
  return { addresses, broadcasts };
}

export function currentLocalAddresses(): LocalAddresses {
  return localAddressesFrom(os.networkInterfaces());
}

/** The directed-broadcast address of a subnet; none for /31 and /32, which have no broadcast. */
export function ipv4Broadcast(address: string, netmask: string): string | null {
  const a = toUint32(address);
  const m = toUint32(netmask);
  if (a === null || m === null || m >>> 0 >= 0xfffffffe) return null;
  const b = (a | ~m) >>> 0;
  return `${b >>> 24}.${(b >>> 16) & 255}.${(b >>> 8) & 255}.${b & 255}`;
}

function toUint32(dotted: string): number | null {
  const parts = dotted.split('.');
  if (parts.length !== 4) return null;
  let v = 0;
  for (const part of parts) {
    const n = Number(part);
    if (!Number.isInteger(n) || n < 0 || n > 255) return null;
    v = v * 256 + n;
  }
  return v;
}
