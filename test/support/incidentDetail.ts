import type { IncidentDetail } from '../../src/shared/contract';

/** A port incident as getIncident returns it: nc listening on 4444, its process recorded. */
export function ncIncident(over: Partial<IncidentDetail> = {}): IncidentDetail {
  return {
    id: 7, startedAt: Date.UTC(2026, 2, 2, 9, 0), endedAt: Date.UTC(2026, 2, 2, 9, 5), rounds: 6, peakScore: 12.5, threshold: 4.25, status: 'new',
    sentence: 'Port 4444/tcp started listening: /usr/bin/nc (pid 4242), never seen before.',
    ports: [
      { proto: 'tcp', port: 4444, direction: 'appeared', share: 0.9, expected: 0.01, process: 'nc', exe: '/usr/bin/nc', pid: 4242, firstSeenAt: null, usualProcess: null, usualExe: null },
      { proto: 'tcp', port: 22, direction: 'vanished', share: 0.1, expected: 0.99, process: 'sshd', exe: '/usr/sbin/sshd', pid: 801, firstSeenAt: null, usualProcess: null, usualExe: null },
    ],
    kind: 'ports', trafficKind: null, program: null, endpoints: [], features: [],
    episodes: [{ startedAt: Date.UTC(2026, 2, 2, 9, 0), endedAt: Date.UTC(2026, 2, 2, 9, 5) }],
    processes: [{ pid: 4242, startTicks: 123456, exe: '/usr/bin/nc', name: 'nc', uid: 1000, ports: [{ proto: 'tcp', port: 4444 }] }],
    actions: [{ at: Date.UTC(2026, 2, 2, 9, 10), action: 'stop', pid: 4242, outcome: 'sigkill', detail: '/usr/bin/nc (pid 4242) did not end within 50 checks of SIGTERM and was ended by SIGKILL' }],
    scores: [{ roundId: 1, at: Date.UTC(2026, 2, 2, 9, 0), score: 12.5, threshold: 4.25, anomalous: true }],
    flows: [], dns: ['c2.example'],
    ...over,
  };
}
