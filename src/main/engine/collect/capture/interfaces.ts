/**
 * Which interfaces can be captured on, and which one is the primary: the interface of the
 * default route on Linux (IPv4 first, then IPv6), `route -n get default` or en0 on macOS.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { loadCap, type PcapDevice } from './capBinding';
import { CaptureError } from './captureErrors';
import { parseProcNetIpv6Route, parseProcNetRoute, parseRouteGetDefault } from './routes';

export interface CaptureInterface {
  name: string;
  description: string | null;
  loopback: boolean;
  /** Addresses from libpcap and the OS together, without duplicates. */
  addresses: string[];
  mac: string | null;
}

export type DefaultSource = 'ipv4-default-route' | 'ipv6-default-route' | 'route-get-default' | 'en0' | 'first-non-loopback';

export interface DefaultInterface {
  name: string;
  source: DefaultSource;
}

/** Where interface facts come from; tests replace any of them. */
export interface InterfaceSources {
  pcapDevices: () => PcapDevice[];
  osInterfaces: () => NodeJS.Dict<os.NetworkInterfaceInfo[]>;
  platform: NodeJS.Platform;
  readText: (path: string) => string | null;
  routeGetDefault: () => string | null;
}

export const systemSources: InterfaceSources = {
  pcapDevices: () => loadCap().Cap.deviceList(),
  osInterfaces: () => os.networkInterfaces(),
  platform: process.platform,
  readText: (path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null;
    }
  },
  routeGetDefault: () => {
    try {
      return execFileSync('route', ['-n', 'get', 'default'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return null;
    }
  },
};

/** libpcap's devices (what can be opened), with the OS's addresses and MAC merged in. */
export function listCaptureInterfaces(sources: InterfaceSources = systemSources): CaptureInterface[] {
  const osIfaces = sources.osInterfaces();
  return sources.pcapDevices().map((dev) => {
    const infos = osIfaces[dev.name] ?? [];
    const addresses = new Set<string>();
    for (const a of dev.addresses) if (a.addr) addresses.add(a.addr);
    for (const info of infos) addresses.add(info.address);
    const mac = infos.find((i) => i.mac && i.mac !== '00:00:00:00:00:00')?.mac ?? null;
    return {
      name: dev.name,
      description: dev.description ?? null,
      loopback: dev.flags === 'PCAP_IF_LOOPBACK' || infos.some((i) => i.internal),
      addresses: [...addresses],
      mac,
    };
  });
}

/** The primary interface, or null when the machine has no route out and no non-loopback address. */
export function defaultCaptureInterface(sources: InterfaceSources = systemSources): DefaultInterface | null {
  if (sources.platform === 'linux') {
    const v4 = parseProcNetRoute(sources.readText('/proc/net/route') ?? '')[0];
    if (v4) return { name: v4.iface, source: 'ipv4-default-route' };
    const v6 = parseProcNetIpv6Route(sources.readText('/proc/net/ipv6_route') ?? '')[0];
    if (v6) return { name: v6.iface, source: 'ipv6-default-route' };
  } else if (sources.platform === 'darwin') {
    const routed = parseRouteGetDefault(sources.routeGetDefault() ?? '');
    if (routed) return { name: routed, source: 'route-get-default' };
    if (sources.osInterfaces().en0) return { name: 'en0', source: 'en0' };
  }
  // Offline (no default route): still watch the first real interface rather than nothing.
  for (const [name, infos] of Object.entries(sources.osInterfaces())) {
    if (infos?.some((i) => !i.internal)) return { name, source: 'first-non-loopback' };
  }
  return null;
}

/**
 * The interface to capture on: `requested` when libpcap knows it, else the default one.
 * Throws a CaptureError listing the available interfaces when neither works.
 */
export function resolveCaptureInterface(requested: string | undefined, sources: InterfaceSources = systemSources): string {
  const available = sources.pcapDevices().map((d) => d.name);
  if (requested !== undefined) {
    if (available.includes(requested)) return requested;
    throw new CaptureError(
      'no-such-interface',
      requested,
      `packet capture is off: unknown interface "${requested}"; available: ${available.join(', ') || '(none)'}`,
    );
  }
  const chosen = defaultCaptureInterface(sources);
  if (chosen && available.includes(chosen.name)) return chosen.name;
  throw new CaptureError(
    'no-default-interface',
    null,
    `packet capture is off: no default interface found${chosen ? ` (${chosen.name} cannot be captured)` : ''}; available: ${available.join(', ') || '(none)'}`,
  );
}
