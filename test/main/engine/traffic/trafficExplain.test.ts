import { describe, expect, it } from 'vitest';
import { busiestZone, classify, commonZone, telling, trafficSentence } from '../../../../src/main/engine/traffic/trafficExplain';
import { MODEL_FEATURES } from '../../../../src/main/engine/traffic/processContext';
import type { TrafficEndpoint, TrafficRow } from '../../../../src/main/engine/traffic/trafficRow';
import { endpointFact } from './support/endpointFact';

const T = new Date(2026, 11, 7, 14, 2).getTime();

const endpoint = (over: Partial<TrafficEndpoint> = {}) => endpointFact({ heldSince: T, ...over });

function row(endpoints: TrafficEndpoint[]): TrafficRow {
  return { processId: 7, process: { name: 'python3', exe: '/usr/bin/python3', user: 'ann' }, pids: [4121], features: new Float32Array(), raw: new Float64Array(), endpoints, endpointsOmitted: 0, dnsNames: [], probes: [] };
}

function shares(named: Record<string, number>): Float32Array {
  return Float32Array.from(MODEL_FEATURES, (f) => named[f] ?? 0);
}

describe('traffic explanations', () => {
  it('names the zone the names of a tunnel sit under, and counts its names alone, in a row that also holds ordinary lookups', () => {
    const tunnel = Array.from({ length: 5 }, (_, k) => ({ name: `q${k}x7f3k2mn9v.t.metrics-297.test`, lookups: 1, failed: 0 }));
    const ordinary = [
      { name: 'connectivity-check.example.net', lookups: 6, failed: 0 },
      { name: '0.pool.ntp.example.org', lookups: 1, failed: 0 },
    ];
    const host: TrafficRow = { ...row([]), processId: null, process: null, pids: [], dnsNames: [...ordinary, ...tunnel] };
    expect(trafficSentence('dns-tunnel', host, T, [])).toBe('Traffic no program on this machine owns made 5 DNS lookups of 5 long, random-looking names under t.metrics-297.test since 14:02.');
  });

  it("writes the bytes of an exfiltration as the incident's remote ends and the rest of Portent write them", () => {
    const sent = row([endpoint({ bytesOut: 40_000_000, name: 'drop.example', address: '192.0.2.50', port: 8443 }), endpoint({ bytesOut: 12_000_000, address: '198.51.100.4', port: 443 })]);
    // 52,000,000 bytes are 49.6 MiB: "50 MB", as formatBytes writes them in the window, the CLI and the report.
    expect(trafficSentence('volume-out', sent, T, [])).toMatch(/^python3 \(pid 4121\) sent 50 MB to drop\.example \(192\.0\.2\.50:8443\)/);
  });

  it('does not call one name looked up again and again a set of random-looking names', () => {
    const nm: TrafficRow = { ...row([]), process: { name: 'NetworkManager', exe: '/usr/sbin/NetworkManager', user: 'root' }, pids: [598], dnsNames: [{ name: 'connectivity-check.example.net', lookups: 4, failed: 0 }] };
    expect(trafficSentence('dns-tunnel', nm, T, [])).toBe('NetworkManager (pid 598) made 4 DNS lookups of connectivity-check.example.net, unlike its usual since 14:02.');
  });

  it('finds the busiest zone by whole labels, the longest of those holding as many names', () => {
    expect(busiestZone(['a.b.t.evil.example', 'c.d.t.evil.example', 'www.example.com'])).toBe('t.evil.example');
    expect(busiestZone(['a.t.evil.example', 'b.u.evil.example', 'www.example.com'])).toBe('evil.example');
    expect(busiestZone(['www.example.com', 'mail.example.org'])).toBeNull();
    expect(busiestZone(['example.com', 'example.com.'])).toBeNull();
  });

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

  it('names first, in a beacon, the host whose rhythm began within the hour over polls that always ran', () => {
    // The host-wide row of a desktop: a calendar tab's poll and a connectivity check, regular all
    // week, and a beacon begun 20 minutes ago by a process too short-lived to be named. None is
    // new to the row (its names or addresses were seen in the look-back), so only the rhythm
    // and how recently it began can rank them.
    const old = { newForProcess: false, newAnywhere: false, recentForProcess: false, opened: 10 };
    const calendar = endpoint({ ...old, endpointId: 1, address: '198.51.100.10', port: 443, name: 'calendar.example.com', periodicity: { score: 0.9, periodMs: 300_000, arrivals: 40 } });
    const check = endpoint({ ...old, endpointId: 2, address: '198.51.100.11', port: 80, name: 'connectivity-check.example.net', periodicity: { score: 0.95, periodMs: 60_000, arrivals: 300 } });
    const beacon = endpoint({ ...old, recentForProcess: true, endpointId: 3, address: '203.0.113.9', port: 443, name: 'api-1.svc.test', opened: 5, periodicity: { score: 0.7, periodMs: 120_000, arrivals: 10 } });
    const host: TrafficRow = { ...row([calendar, check, beacon]), processId: null, process: null, pids: [] };
    expect(telling(host, 'beacon').map((e) => e.name)).toEqual(['api-1.svc.test', 'connectivity-check.example.net', 'calendar.example.com']);
    // Told as another kind, the rhythm does not rank: the busiest end comes first.
    expect(telling(host, 'new-destination')[0]!.name).not.toBe('api-1.svc.test');
  });

  it('finds the zone a tunnel\'s names share', () => {
    expect(commonZone(['a1b2.t.example.net', 'zz9.t.example.net.'])).toBe('t.example.net');
    expect(commonZone(['one.example.org', 'two.example.net'])).toBeNull();
  });
});
