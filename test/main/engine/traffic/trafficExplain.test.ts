import { describe, expect, it } from 'vitest';
import { classify, commonZone, trafficSentence } from '../../../../src/main/engine/traffic/trafficExplain';
import { MODEL_FEATURES } from '../../../../src/main/engine/traffic/processContext';
import type { TrafficEndpoint, TrafficRow } from '../../../../src/main/engine/traffic/trafficRow';

const T = new Date(2026, 11, 7, 14, 2).getTime();

function endpoint(over: Partial<TrafficEndpoint> = {}): TrafficEndpoint {
  return {
    endpointId: 1, proto: 'tcp', address: '203.0.113.7', port: 4444, direction: 'out', name: null, newForProcess: true, recentForProcess: true, newAnywhere: true, firstSeenAt: null, firstSeenByProcessAt: null,
    sockets: 1, opened: 1, halfOpen: false, heldSince: T, localPorts: [], bytesOut: 100, bytesIn: 100, packetsOut: 1, packetsIn: 1, periodicity: { score: 0, periodMs: null, arrivals: 1 },
    ...over,
  } as TrafficEndpoint;
}

function row(endpoints: TrafficEndpoint[]): TrafficRow {
  return { processId: 7, process: { name: 'python3', exe: '/usr/bin/python3', user: 'ann' }, pids: [4121], features: new Float32Array(), raw: new Float64Array(), endpoints, endpointsOmitted: 0, dnsNames: [], probes: [] };
}

function shares(named: Record<string, number>): Float32Array {
  return Float32Array.from(MODEL_FEATURES, (f) => named[f] ?? 0);
}

describe('traffic explanations', () => {
  it('says a new host is held open only for one connection kept open, not for repeated check-ins', () => {
    expect(trafficSentence('new-destination', row([endpoint()]), T, [])).toBe(
      'python3 (pid 4121) talked to 203.0.113.7:4444, a host it never talked to before (nor did any program here), holding the connection open since 14:02.',
    );
    expect(trafficSentence('new-destination', row([endpoint({ opened: 3 })]), T, [])).toBe(
      'python3 (pid 4121) talked to 203.0.113.7:4444, a host it never talked to before (nor did any program here) since 14:02.',
    );
  });

  it('names the kind whose features carry the explanation, and a beacon over a new host when its beat carries enough', () => {
    expect(classify(shares({ closed_port_attempts: 0.5, max_ports_one_source: 0.3 }))).toBe('scan');
    expect(classify(shares({ dns_entropy_max: 0.4, dns_lookups: 0.2 }))).toBe('dns-tunnel');
    expect(classify(shares({ new_for_process: 0.4, rare_remote_port_share: 0.2, periodicity: 0.1 }))).toBe('new-destination');
    expect(classify(shares({ new_for_process: 0.4, periodicity: 0.3 }))).toBe('beacon');
    expect(classify(shares({ usual_bytes_out: 0.9 }))).toBe('unusual-traffic');
  });

  it('finds the zone a tunnel\'s names share', () => {
    expect(commonZone(['a1b2.t.example.net', 'zz9.t.example.net.'])).toBe('t.example.net');
    expect(commonZone(['one.example.org', 'two.example.net'])).toBeNull();
  });
});
