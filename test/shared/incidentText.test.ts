import { describe, expect, it } from 'vitest';
import { incidentAsJson, incidentAsText, trafficScope } from '../../src/shared/incidentText';
import { scaleFeature, TRAFFIC_SCALES } from '../../src/shared/trafficScale';
import { ncIncident } from '../support/incidentDetail';

describe('an incident as text and JSON (copy, and anomalies show)', () => {
  it('tells the incident in plain text: what, when, ports, processes and what was done', () => {
    expect(incidentAsText(ncIncident())).toBe(
      [
        'Portent incident 7 [new]',
        'Port 4444/tcp started listening: /usr/bin/nc (pid 4242), never seen before.',
        'When: 2026-03-02T09:00:00Z to 2026-03-02T09:05:00Z (6 rounds)',
        'Score: 12.50 against a threshold of 4.25',
        'About: listening ports',
        'Ports:',
        '  4444/tcp appeared: nc (pid 4242) /usr/bin/nc, 90% of the error',
        '  22/tcp vanished: sshd (pid 801) /usr/sbin/sshd, 10% of the error',
        'Processes:',
        '  nc (pid 4242) /usr/bin/nc, uid 1000, ports 4444/tcp',
        'Actions:',
        '  2026-03-02T09:10:00Z stop pid 4242: stopped (needed SIGKILL), /usr/bin/nc (pid 4242) did not end within 50 checks of SIGTERM and was ended by SIGKILL',
        'DNS names: c2.example',
        '',
      ].join('\n'),
    );
  });

  it('says when the same cause came back after a pause, each episode in turn', () => {
    const at = (h: number, m: number) => Date.UTC(2026, 2, 2, h, m);
    const text = incidentAsText(ncIncident({ rounds: 9, episodes: [{ startedAt: at(9, 0), endedAt: at(9, 5) }, { startedAt: at(13, 0), endedAt: at(13, 2) }] }));
    expect(text).toContain('When: 2026-03-02T09:00:00Z to 2026-03-02T09:05:00Z, then 2026-03-02T13:00:00Z to 2026-03-02T13:02:00Z (9 rounds; the same cause came back 1 time after a pause)');
    const json = JSON.parse(incidentAsJson(ncIncident({ episodes: [{ startedAt: at(9, 0), endedAt: at(9, 5) }, { startedAt: at(13, 0), endedAt: at(13, 2) }] }))) as { episodes: unknown };
    expect(json.episodes).toEqual([{ startedAt: '2026-03-02T09:00:00Z', endedAt: '2026-03-02T09:05:00Z' }, { startedAt: '2026-03-02T13:00:00Z', endedAt: '2026-03-02T13:02:00Z' }]);
  });

  it('gives the same facts as JSON, with times in ISO 8601 and without the chart\'s scores', () => {
    const json = JSON.parse(incidentAsJson(ncIncident())) as Record<string, unknown>;
    expect(json).toMatchObject({ id: 7, status: 'new', startedAt: '2026-03-02T09:00:00Z', processes: [{ pid: 4242, startTicks: 123456, exe: '/usr/bin/nc' }] });
    expect(json.actions).toEqual([expect.objectContaining({ at: '2026-03-02T09:10:00Z', outcome: 'sigkill' })]);
    expect(json).not.toHaveProperty('scores');
  });

  it('names the program and remote ends of a traffic incident', () => {
    const text = incidentAsText(
      ncIncident({
        kind: 'traffic', trafficKind: 'beacon', ports: [], processes: [], actions: [], dns: [], program: { name: 'python3', exe: '/usr/bin/python3.12', user: 'ann' },
        endpoints: [{ proto: 'tcp', address: '203.0.113.7', port: 4444, direction: 'out', name: null, newForProcess: true, newAnywhere: true, firstSeenAt: null, heldSince: null, opened: 3, bytesOut: 100, bytesIn: 20, periodMs: 60_000 }],
        features: [
          { feature: 'periodicity', share: 0.55, value: 0.93, expected: 0.04 },
          { feature: 'bytes_out', share: 0.3, value: scaleFeature(TRAFFIC_SCALES.bytes_out, 52_000_000), expected: scaleFeature(TRAFFIC_SCALES.bytes_out, 150_000) },
        ],
      }),
    );
    expect(text).toContain('About: traffic (beacon)\nProgram: python3 /usr/bin/python3.12, user ann\nRemote ends:\n  203.0.113.7:4444/tcp (out, new for every program, 3 opened, 100 B out, 20 B in)\n');
    // Why, for a ticket: the driving features, in units.
    expect(text).toContain('What made it stand out:\n  periodicity 55% of the explanation, 0.93 seen, 0.04 expected\n  bytes_out 30% of the explanation, 50 MB seen, 146 KB expected\n');
  });

  it("says whose DNS names it lists: the machine's for a port incident, the program's for its traffic, the unnamed for traffic no program owns", () => {
    const traffic = { kind: 'traffic' as const, trafficKind: 'beacon' as const, ports: [], dns: ['c2.example'] };
    expect(incidentAsText(ncIncident())).toContain('\nDNS names: c2.example\n');
    expect(incidentAsText(ncIncident({ ...traffic, program: { name: 'python3', exe: '/usr/bin/python3.12', user: 'ann' } }))).toContain("\nDNS names of python3's lookups and remote ends: c2.example\n");
    expect(incidentAsText(ncIncident({ ...traffic, program: null }))).toContain('\nDNS names looked up by no named program: c2.example\n');
    expect(trafficScope({ kind: 'both', program: { name: 'nc', exe: null, user: null } }).flows).toBe('Flows of nc during the incident, and those to its remote ends no program was named for');
    expect(trafficScope({ kind: 'ports', program: null }).flows).toBe('Flows during the incident');
  });
});
