import { describe, expect, it } from 'vitest';
import { countConnections, remotePortClass } from '../../../../../src/main/engine/collect/sockets/types';

describe('remotePortClass', () => {
  it('splits at the IANA boundaries 1024 and 49152', () => {
    expect([0, 1023, 1024, 49151, 49152, 65535].map(remotePortClass)).toEqual([
      'well-known', 'well-known', 'registered', 'registered', 'dynamic', 'dynamic',
    ]);
  });
});

describe('countConnections', () => {
  it('always returns the six (proto, class) counts in a fixed order', () => {
    expect(countConnections([{ proto: 'udp', remotePort: 60000 }, { proto: 'tcp', remotePort: 22 }, { proto: 'udp', remotePort: 60001 }])).toEqual([
      { proto: 'tcp', remotePortClass: 'well-known', count: 1 },
      { proto: 'tcp', remotePortClass: 'registered', count: 0 },
      { proto: 'tcp', remotePortClass: 'dynamic', count: 0 },
      { proto: 'udp', remotePortClass: 'well-known', count: 0 },
      { proto: 'udp', remotePortClass: 'registered', count: 0 },
      { proto: 'udp', remotePortClass: 'dynamic', count: 2 },
    ]);
  });
});
