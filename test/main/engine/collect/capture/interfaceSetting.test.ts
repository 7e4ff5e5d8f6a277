import type os from 'node:os';
import { describe, expect, it } from 'vitest';
import { interfaceChoices, interfaceExistsCheck, unknownInterfaceError } from '../../../../../src/main/engine/collect/capture/interfaceSetting';
import { systemSources, type InterfaceSources } from '../../../../../src/main/engine/collect/capture/interfaces';

const info = (address: string, internal = false): os.NetworkInterfaceInfo => ({ address, netmask: '255.255.255.0', family: 'IPv4', mac: '02:00:00:00:00:01', internal, cidr: `${address}/24` });

const sources: InterfaceSources = {
  pcapDevices: () => [
    { name: 'eth0', addresses: [{ addr: '192.0.2.2' }] },
    { name: 'any', addresses: [] },
    { name: 'lo', addresses: [{ addr: '127.0.0.1' }], flags: 'PCAP_IF_LOOPBACK' },
  ],
  osInterfaces: () => ({ lo: [info('127.0.0.1', true)], eth0: [info('192.0.2.2')] }),
  platform: 'linux',
  readText: (p) => (p === '/proc/net/route' ? 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\nethX\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\neth0\t00000000\t010200C0\t0003\t0\t0\t200\t00000000\n' : null),
  routeGetDefault: () => null,
};

describe('the capture.interface setting on this machine', () => {
  it("lists libpcap's interfaces, and the default route's only when it can be captured on", () => {
    expect(interfaceChoices(sources)).toEqual({
      names: [
        { name: 'eth0', addresses: ['192.0.2.2'], loopback: false },
        { name: 'any', addresses: [], loopback: false },
        { name: 'lo', addresses: ['127.0.0.1'], loopback: true },
      ],
      // ethX has the better route but libpcap cannot open it.
      default: null,
    });
    const routed = { ...sources, readText: (p: string) => (p === '/proc/net/route' ? 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\neth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\n' : null) };
    expect(interfaceChoices(routed).default).toBe('eth0');
  });

  it("falls back to the OS's interfaces when libpcap cannot be loaded", () => {
    const without = {
      ...sources,
      pcapDevices: () => {
        throw new Error('cannot load cap');
      },
    };
    expect(interfaceChoices(without).names.map((i) => i.name)).toEqual(['lo', 'eth0']);
  });

  it('refuses a name the machine lacks, listing the real ones; accepts real names and the empty default', () => {
    expect(unknownInterfaceError('eth9', ['eth0', 'lo'])).toBe(`capture.interface must be one of this machine's interfaces (eth0, lo), or "" for the default route's; got "eth9"`);
    expect(unknownInterfaceError('eth0', ['eth0', 'lo'])).toBeNull();
    expect(unknownInterfaceError('', [])).toBeNull();
    expect(unknownInterfaceError('eth0', [])).toMatch(/\(none found\)/);
    const check = interfaceExistsCheck(() => ['eth0']);
    expect(check('capture.interface', 'wlan0')).toMatch(/got "wlan0"/);
    expect(check('capture.filter', 'wlan0')).toBeNull();
  });

  it("knows this machine's loopback", () => {
    expect(interfaceChoices(systemSources).names.map((i) => i.name)).toContain('lo');
    expect(interfaceExistsCheck()('capture.interface', 'lo')).toBeNull();
    expect(interfaceExistsCheck()('capture.interface', 'portent-none0')).toMatch(/\blo\b/);
  });
});
