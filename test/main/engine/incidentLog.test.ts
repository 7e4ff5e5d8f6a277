import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { IncidentLog, incidentLogFileOf } from '../../../src/main/engine/incidentLog';
import type { IncidentRow } from '../../../src/main/engine/store/detectionStore';
import { tempDir } from '../../support/tmp';

const T0 = Date.UTC(2026, 11, 5, 3, 0);
const incident = (id: number, over: Partial<IncidentRow> = {}): IncidentRow => ({
  id,
  runId: 7,
  startRoundId: 100,
  endRoundId: 102,
  startedAt: T0,
  endedAt: T0 + 120_000,
  rounds: 3,
  peakScore: 12.3456,
  threshold: 6.5,
  status: 'new',
  sentence: 'Port 4444/tcp started listening (nc, pid 3121).',
  ports: [{ proto: 'tcp', port: 4444, direction: 'appeared', share: 0.91234, expected: 0.000001, process: 'nc', exe: '/usr/bin/nc.openbsd', pid: 3121, firstSeenAt: null, usualProcess: null, usualExe: null }],
  ...over,
});

function lines(file: string): Record<string, unknown>[] {
  return fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('IncidentLog', () => {
  it('writes an incident as one ECS line: opened, extended, resolved when a detection no longer continues it, marked', () => {
    const file = incidentLogFileOf(path.join(tempDir(), 'portent.db'));
    let now = T0 + 180_000;
    const log = new IncidentLog(file, 'dev-01', () => now);
    log.detection(7, [incident(1)], 60);
    now += 3_600_000;
    log.detection(8, [{ ...incident(1, { endRoundId: 150, rounds: 51 }), grew: true }], 60);
    log.marked(incident(1, { status: 'seen', rounds: 51 }));
    now += 60_000;
    // A run that scored nothing decides nothing; one that scored rounds without it resolves it.
    log.detection(9, [], 0);
    log.detection(10, [], 1);
    log.close();
    const written = lines(file);
    expect(written.map((l) => (l.event as { action: string }).action)).toEqual(['incident-opened', 'incident-extended', 'incident-marked', 'incident-resolved']);
    expect(written[0]).toEqual({
      '@timestamp': new Date(T0 + 180_000).toISOString(),
      message: 'Port 4444/tcp started listening (nc, pid 3121).',
      ecs: { version: '8.11.0' },
      event: {
        kind: 'alert',
        category: ['network', 'intrusion_detection'],
        type: ['start'],
        action: 'incident-opened',
        dataset: 'portent.incident',
        module: 'portent',
        start: new Date(T0).toISOString(),
        end: new Date(T0 + 120_000).toISOString(),
        risk_score: 12.346,
      },
      host: { name: 'dev-01' },
      observer: { vendor: 'Portent', product: 'Portent', type: 'host-monitor', version: expect.any(String) },
      network: { transport: 'tcp' },
      destination: { port: 4444 },
      process: { pid: 3121, name: 'nc', executable: '/usr/bin/nc.openbsd' },
      rule: { name: 'appeared' },
      portent: {
        schema: 1,
        incident: {
          id: 1,
          status: 'new',
          rounds: 3,
          peak_score: 12.3456,
          threshold: 6.5,
          ports: [{ proto: 'tcp', port: 4444, change: 'appeared', share: 0.912, pid: 3121, process: 'nc', executable: '/usr/bin/nc.openbsd' }],
        },
      },
    });
    expect(written[1]).toMatchObject({ event: { type: ['change'] }, portent: { incident: { rounds: 51, grew: true } } });
    expect(written[2]).toMatchObject({ event: { action: 'incident-marked' }, portent: { incident: { status: 'seen' } } });
    expect(written[3]).toMatchObject({ '@timestamp': new Date(T0 + 180_000 + 3_660_000).toISOString(), event: { type: ['end'] }, portent: { incident: { id: 1, status: 'seen' } } });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('names a new owner and its usual owner, and leaves out what was not seen', () => {
    const file = incidentLogFileOf(path.join(tempDir(), 'portent.db'));
    const log = new IncidentLog(file, 'h', () => T0);
    log.detection(3, [incident(2, { runId: 3, ports: [{ proto: 'udp', port: 53, direction: 'new-owner', share: 1, expected: 1, process: null, exe: null, pid: null, firstSeenAt: T0, usualProcess: 'systemd-resolve', usualExe: '/usr/lib/systemd/systemd-resolved' }] })], 5);
    log.close();
    const [line] = lines(file);
    expect(line).not.toHaveProperty('process');
    expect(line).toMatchObject({ network: { transport: 'udp' }, destination: { port: 53 }, rule: { name: 'new-owner' }, portent: { incident: { ports: [{ change: 'new-owner', usual_process: 'systemd-resolve', usual_executable: '/usr/lib/systemd/systemd-resolved' }] } } });
  });
});
