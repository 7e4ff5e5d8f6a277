import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type os from 'node:os';
import { describe, expect, it } from 'vitest';
import { CaptureError } from '../../../../../src/main/engine/collect/capture/captureErrors';
import {
  defaultCaptureInterface,
  listCaptureInterfaces,
  resolveCaptureInterface,
  systemSources,
  type InterfaceSources,
} from '../../../../../src/main/engine/collect/capture/interfaces';
import { parseProcNetIpv6Route, parseProcNetRoute, parseRouteGetDefault } from '../../../../../src/main/engine/collect/capture/routes';

// Real tables, copied from a Debian 12 host (tabs and padding as the kernel writes them).
const PROC_NET_ROUTE = [
  'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       ',
  'wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0                                                                               ',
  'eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0                                                                               ',
  'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                               ',
  'tun0\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0                                                                               ',
  '',
].join('\n');

const PROC_NET_IPV6_ROUTE = [
  'fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0',
  '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0',
  '00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000003 00000000 80200001       lo',
  '00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo',
  '',
].join('\n');

const ROUTE_GET_DEFAULT = `   route to: default
destination: default
       mask: default
    gateway: 192.168.1.1
  interface: en7
      flags: <UP,GATEWAY,DONE,STATIC,PRCLONING,GLOBAL>
 recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire
       0         0         0         0         0         0      1500         0
`;

const ifaceInfo = (address: string, internal = false): os.NetworkInterfaceInfo =>
  address.includes(':')
    ? { address, netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal, cidr: `${address}/64`, scopeid: 0 }
    : { address, netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal, cidr: `${address}/24` };

function fake(over: Partial<InterfaceSources>): InterfaceSources {
  return {
    pcapDevices: () => [
      { name: 'eth0', addresses: [{ addr: '192.0.2.2', netmask: '255.255.255.0' }] },
      { name: 'any', description: 'Pseudo-device that captures on all interfaces', addresses: [] },
      { name: 'lo', addresses: [{ addr: '127.0.0.1' }], flags: 'PCAP_IF_LOOPBACK' },
      { name: 'en0', addresses: [] },
    ],
    osInterfaces: () => ({ lo: [ifaceInfo('127.0.0.1', true)], eth0: [ifaceInfo('192.0.2.2'), ifaceInfo('fd00::2')] }),
    platform: 'linux',
    readText: () => null,
    routeGetDefault: () => null,
    ...over,
  };
}

describe('route parsing', () => {
  it('/proc/net/route: up default routes only, lowest metric first, reject routes skipped', () => {
    expect(parseProcNetRoute(PROC_NET_ROUTE)).toEqual([
      { iface: 'eth0', metric: 100, family: 4 },
      { iface: 'wlan0', metric: 600, family: 4 },
    ]);
    expect(parseProcNetRoute('Iface\tDestination\n')).toEqual([]);
  });

  it("/proc/net/ipv6_route: the default via a gateway, not the kernel's unreachable default on lo", () => {
    expect(parseProcNetIpv6Route(PROC_NET_IPV6_ROUTE)).toEqual([{ iface: 'eth0', metric: 0x400, family: 6 }]);
  });

  it('macOS route -n get default', () => {
    expect(parseRouteGetDefault(ROUTE_GET_DEFAULT)).toBe('en7');
    expect(parseRouteGetDefault('route: writing to routing socket: not in table\n')).toBeNull();
  });

  const ipRoute = ((): string | null => {
    try {
      return execFileSync('ip', ['-4', 'route', 'show', 'default'], { encoding: 'utf8' });
    } catch {
      return null;
    }
  })();

  it.skipIf(!existsSync('/proc/net/route') || ipRoute === null || !ipRoute.includes(' dev '))(
    "agrees with `ip route` on this machine's real tables (needs Linux, iproute2 and a default route)",
    () => {
      const dev = /\bdev (\S+)/.exec(ipRoute ?? '')?.[1];
      expect(parseProcNetRoute(readFileSync('/proc/net/route', 'utf8'))[0]?.iface).toBe(dev);
    },
  );
});

describe('capture interfaces', () => {
  it('Linux: the IPv4 default route wins, then IPv6, then the first non-loopback interface', () => {
    const tables: Record<string, string> = { '/proc/net/route': PROC_NET_ROUTE, '/proc/net/ipv6_route': PROC_NET_IPV6_ROUTE };
    expect(defaultCaptureInterface(fake({ readText: (p) => tables[p] ?? null }))).toEqual({ name: 'eth0', source: 'ipv4-default-route' });
    const v6only = { '/proc/net/route': PROC_NET_ROUTE.split('\n').slice(0, 1).join('\n'), '/proc/net/ipv6_route': PROC_NET_IPV6_ROUTE } as Record<string, string>;
    expect(defaultCaptureInterface(fake({ readText: (p) => v6only[p] ?? null }))).toEqual({ name: 'eth0', source: 'ipv6-default-route' });
    expect(defaultCaptureInterface(fake({}))).toEqual({ name: 'eth0', source: 'first-non-loopback' });
    expect(defaultCaptureInterface(fake({ osInterfaces: () => ({ lo: [ifaceInfo('127.0.0.1', true)] }) }))).toBeNull();
  });

  it('macOS: route -n get default, else en0', () => {
    expect(defaultCaptureInterface(fake({ platform: 'darwin', routeGetDefault: () => ROUTE_GET_DEFAULT }))).toEqual({ name: 'en7', source: 'route-get-default' });
    const withEn0 = () => ({ en0: [ifaceInfo('192.168.1.3')], lo0: [ifaceInfo('127.0.0.1', true)] });
    expect(defaultCaptureInterface(fake({ platform: 'darwin', osInterfaces: withEn0 }))).toEqual({ name: 'en0', source: 'en0' });
  });

  it('merges libpcap devices with OS addresses', () => {
    const list = listCaptureInterfaces(fake({}));
    expect(list.map((i) => i.name)).toEqual(['eth0', 'any', 'lo', 'en0']);
    expect(list[0]).toEqual({ name: 'eth0', description: null, loopback: false, addresses: ['192.0.2.2', 'fd00::2'], mac: '02:00:00:00:00:01' });
    expect(list[2]?.loopback).toBe(true);
  });

  it('an unknown interface name is an error that lists the available ones', () => {
    const sources = fake({});
    expect(resolveCaptureInterface('lo', sources)).toBe('lo');
    let err: unknown;
    try {
      resolveCaptureInterface('wlp9s0', sources);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CaptureError);
    expect((err as CaptureError).kind).toBe('no-such-interface');
    expect((err as Error).message).toBe('packet capture is off: unknown interface "wlp9s0"; available: eth0, any, lo, en0');
  });

  it('with no name given, the default interface must be one libpcap can open', () => {
    expect(resolveCaptureInterface(undefined, fake({}))).toBe('eth0');
    expect(() => resolveCaptureInterface(undefined, fake({ osInterfaces: () => ({ lo: [ifaceInfo('127.0.0.1', true)] }) }))).toThrow(
      'packet capture is off: no default interface found; available: eth0, any, lo, en0',
    );
  });

  it("on this machine: libpcap's real device list includes the loopback and the default interface", () => {
    const list = listCaptureInterfaces(systemSources);
    const lo = list.find((i) => i.loopback);
    expect(lo?.addresses).toContain('127.0.0.1');
    const chosen = defaultCaptureInterface(systemSources);
    if (chosen) expect(list.map((i) => i.name)).toContain(chosen.name);
  });
});
