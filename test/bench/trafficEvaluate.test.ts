import { describe, expect, it } from 'vitest';
import { evaluateTraffic, spreadOfTraffic, type TrafficAlert } from '../../bench/traffic/evaluate';
import type { Incident } from '../../bench/traffic/incidents';

const MIN = 60_000;
const DAY = 1440 * MIN;

const incident = (o: Partial<Incident> & Pick<Incident, 'kind' | 'start' | 'end' | 'remotes'>): Incident => ({
  id: o.kind,
  startRound: 0,
  endRound: 0,
  pid: null,
  pids: o.pid != null ? [o.pid] : [],
  process: null,
  exe: null,
  user: null,
  domain: null,
  bytesOut: null,
  detail: '',
  ...o,
});

const incidents = [
  incident({ kind: 'reverse-shell', start: 100 * MIN, end: 160 * MIN, pid: 500, process: 'bash', remotes: ['203.0.113.7'] }),
  incident({ kind: 'port-scan', start: 400 * MIN, end: 405 * MIN, remotes: ['192.168.1.66'] }),
  incident({ kind: 'dns-tunnel', start: 1000 * MIN, end: 1030 * MIN, pid: 600, process: 'python3', remotes: ['127.0.0.53', '192.168.1.1'], domain: 't.x.test' }),
];

const at = (a: number, b: number, o: Partial<TrafficAlert> = {}): TrafficAlert => ({ start: a * MIN, end: b * MIN, ...o });

describe('evaluateTraffic', () => {
  const alerts = [
    at(102, 110, { pid: 500, kind: 'new-destination' }), // names the shell by pid: true, 2 min late
    at(130, 131, { process: 'firefox', remotes: ['198.51.100.1'], kind: 'new-destination' }), // overlaps the shell, names something else: false
    at(410, 411, { remotes: ['192.168.1.66'], kind: 'inbound-attempts' }), // after the scan, within the 10-minute tolerance: true
    at(1005, 1006, { domains: ['abc.t.x.test'], raisedAt: 1065 * MIN, kind: 'dns' }), // raised an hour later: 65 min of delay
    at(2000, 2001, { process: 'bash' }), // names the shell's process, long after it: false
    at(108, 109, { remotes: ['::ffff:203.0.113.7'] }), // an IPv4-mapped address is the same address: true
    at(30, 40, { pid: 500 }), // before the window (learning): not counted
  ];
  const m = evaluateTraffic(alerts, incidents, { from: 60 * MIN, to: 60 * MIN + 2 * DAY });

  it('counts an alert as true when it overlaps an incident and names it, the rest as false alerts per day', () => {
    expect(m.alerts).toBe(6);
    expect(m.true_alerts).toBe(4);
    expect(m.precision).toBe(0.667);
    expect(m.recall).toBe(1);
    expect(m.f1).toBe(0.8);
    expect(m.false_alerts_per_day).toBe(1);
  });

  it('gives recall, delay (from the onset to the first finding alert, raised time first) and naming alerts per kind', () => {
    expect(m.mean_delay_min).toBe(25.667);
    expect(m.by_kind['reverse-shell']).toEqual({ incidents: 1, detected: 1, recall: 1, mean_delay_min: 2, max_delay_min: 2, alerts_naming: 2 });
    expect(m.by_kind['port-scan']).toMatchObject({ recall: 1, mean_delay_min: 10 });
    expect(m.by_kind['dns-tunnel']).toMatchObject({ recall: 1, mean_delay_min: 65 });
    expect(m.by_kind.beacon).toEqual({ incidents: 0, detected: 0, recall: null, mean_delay_min: null, max_delay_min: null, alerts_naming: 0 });
    expect(m.by_alert_kind).toEqual({
      dns: { alerts: 1, precision: 1 },
      'inbound-attempts': { alerts: 1, precision: 1 },
      'new-destination': { alerts: 2, precision: 0.5 },
      unlabelled: { alerts: 2, precision: 0.5 },
    });
  });

  it('misses an incident no alert names, and a pid that is not the incident\'s does not name it even with the same process', () => {
    const miss = evaluateTraffic([at(102, 110, { pid: 501, process: 'bash' })], incidents, { from: 0, to: DAY });
    expect(miss.recall).toBe(0);
    expect(miss.by_kind['reverse-shell'].recall).toBe(0);
    expect(miss.false_alerts_per_day).toBe(1);
  });

  it('spreads metrics over seeds', () => {
    const none = evaluateTraffic([], incidents, { from: 60 * MIN, to: 60 * MIN + 2 * DAY });
    const s = spreadOfTraffic([m, none]);
    expect(s.recall).toEqual({ mean: 0.5, sd: 0.707, min: 0, max: 1, n: 2 });
    expect(s.recall_by_kind.beacon.n).toBe(0);
    expect(s.delay_by_kind['port-scan']).toEqual({ mean: 10, sd: 0, min: 10, max: 10, n: 1 });
  });
});
