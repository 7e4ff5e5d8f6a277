import type { TrafficEndpoint } from '../../../../../src/main/engine/traffic/trafficRow';

/**
 * One remote end as a window row reports it, for tests of what is told about it: by default a
 * host this process and every other reached for the first time in the window (python3's line
 * to 203.0.113.7:4444), one socket, no rhythm; `over` sets what the test is about.
 */
export function endpointFact(over: Partial<TrafficEndpoint> = {}): TrafficEndpoint {
  return {
    endpointId: 1, proto: 'tcp', address: '203.0.113.7', port: 4444, direction: 'out', name: null, newForProcess: true, recentForProcess: true, newAnywhere: true, firstSeenAt: null, firstSeenByProcessAt: null,
    sockets: 1, opened: 1, halfOpen: false, heldSince: null, localPorts: [], bytesOut: 100, bytesIn: 100, packetsOut: 1, packetsIn: 1, periodicity: { score: 0, periodMs: 0, arrivals: 1 },
    ...over,
  };
}
