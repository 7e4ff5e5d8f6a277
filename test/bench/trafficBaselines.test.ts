import { describe, expect, it } from 'vitest';
import { beaconVolumeRule, neverSeen, RULE } from '../../bench/traffic/baselines';
import type { CaptureReport } from '../../src/main/engine/collect/capture/captureSummary';
import type { Flow } from '../../src/main/engine/collect/capture/flows';
import { countedConnections, type ConnectionEntry } from '../../src/main/engine/collect/sockets/types';
import { CaptureStore } from '../../src/main/engine/store/captureStore';
import type { Db } from '../../src/main/engine/store/database';
import { ResolvedNames } from '../../src/main/engine/store/resolvedNames';
import { RoundStore } from '../../src/main/engine/store/rounds';
import { openTestDb } from '../support/db';

const MIN = 60_000;
const HOUR = 60 * MIN;
const START = Date.UTC(2026, 1, 2);
const LOCAL = '192.168.1.10';
const options = { start: START, end: START + 12 * HOUR, learningEnd: START + 2 * HOUR, incidents: [] };

function report(t: number, flows: Flow[]): CaptureReport {
  return {
    from: t - MIN,
    to: t,
    flows: { flows, unattributed: { packets: 0, bytes: 0 }, overflow: { packets: 0, bytes: 0 } },
    dns: [],
    dnsOverflow: 0,
    malformed: {},
    sample: { packets: [], seen: 0, dns: 0, dnsDropped: 0 },
    malformedCount: 0,
    counters: { seen: 0, decoded: 0, malformed: 0, truncated: 0, kernelDrops: 0, batches: 0, callbackErrors: 0 },
  };
}

/** Writes `n` rounds a minute apart through the real stores; `at(k)` gives round k's connections and flows. */
function write(db: Db, n: number, at: (k: number, t: number) => { connected?: ConnectionEntry[]; flows?: Flow[] }): void {
  const names = new ResolvedNames();
  const store = new RoundStore(db, names);
  const capture = new CaptureStore(db, names);
  let previous: ConnectionEntry[] = [];
  for (let k = 0; k < n; k++) {
    const t = START + k * MIN;
    const { connected = [], flows = [] } = at(k, t);
    const id = store.record({ host: 'h', startedAt: t, endedAt: t + 2, outcome: { sockets: [], connections: countedConnections(connected), connected } });
    capture.record(id, { state: 'on', iface: 'eth0', report: report(t, flows) }, { current: connected, previous });
    previous = connected;
  }
}

const conn = (remote: string, localPort: number): ConnectionEntry => ({ proto: 'tcp', family: 4, localAddress: LOCAL, localPort, remoteAddress: remote, remotePort: 443, state: 'established', pid: 4242, process: 'curl', exe: '/usr/bin/curl', user: 'alice' });
const flow = (o: Partial<Flow> & Pick<Flow, 'remoteAddr' | 'firstTs'>): Flow => ({ proto: 'tcp', localAddr: LOCAL, localPort: 40000, remotePort: 443, direction: 'outbound', packets: 3, bytes: 200, lastTs: o.firstTs, tcpFlags: 0x1a, ...o });

describe('baseline: destination never seen for this process', () => {
  it('learns before the window, then raises one alert per process per hour listing its new destinations', () => {
    const { db } = openTestDb();
    write(db, 240, (k, t) => {
      const remote = { 10: '198.51.100.1', 130: '198.51.100.1', 140: '198.51.100.2', 150: '198.51.100.3', 200: '198.51.100.4' }[k];
      if (k === 160) return { flows: [flow({ remoteAddr: '203.0.113.9', remotePort: 51000, localPort: 8080, direction: 'inbound', firstTs: t - 30_000, tcpFlags: 0x02, packets: 1, bytes: 60 })] };
      return remote ? { connected: [conn(remote, 41000 + k)] } : {};
    });
    const alerts = neverSeen(db, options);
    expect(alerts.map((a) => ({ process: a.process, pid: a.pid, remotes: a.remotes, start: (a.start - START) / MIN }))).toEqual([
      { process: 'curl', pid: 4242, remotes: ['198.51.100.2', '198.51.100.3'], start: 140 },
      { process: null, pid: undefined, remotes: ['203.0.113.9'], start: 160 - 0.5 },
      { process: 'curl', pid: 4242, remotes: ['198.51.100.4'], start: 200 },
    ]);
    db.close();
  });
});

describe('baseline: fixed-threshold beacon and volume rule', () => {
  it('flags regular connection starts, an hour far above the usual upload, and a burst of unsolicited attempts, each once', () => {
    const { db } = openTestDb();
    const irregular = new Set([130, 131, 140, 141, 160, 161, 190, 191]);
    write(db, 11 * 60, (k, t) => {
      const flows: Flow[] = [];
      // A check-in every minute from round 130 to 200.
      if (k >= 130 && k <= 200) flows.push(flow({ remoteAddr: '203.0.113.50', localPort: 40000 + k, firstTs: t - 20_000 }));
      // Connections in pairs, minutes apart: not regular.
      if (irregular.has(k)) flows.push(flow({ remoteAddr: '203.0.113.60', localPort: 45000 + k, firstTs: t - 20_000 }));
      // 100 kB an hour, and 5 MB in the tenth hour.
      if (k % 60 === 30) flows.push(flow({ remoteAddr: '198.51.100.9', localPort: 50000 + k, firstTs: t - 10_000, bytes: k === 9 * 60 + 30 ? 5e6 : 1e5, packets: 100, tcpFlags: 0x18 }));
      // Sixty bare SYNs to closed ports from one address.
      if (k === 400) for (let p = 1; p <= 60; p++) flows.push(flow({ remoteAddr: '192.168.1.77', remotePort: 61000, localPort: p, direction: 'inbound', firstTs: t - 5_000, tcpFlags: 0x02, packets: 1, bytes: 60 }));
      return { flows };
    });
    const alerts = beaconVolumeRule(db, options);
    expect(alerts.map((a) => ({ kind: a.kind, remotes: a.remotes, start: Math.round((a.start - START) / MIN) }))).toEqual([
      { kind: 'beacon', remotes: ['203.0.113.50'], start: 130 + RULE.BEACON_MIN_STARTS - 1 },
      { kind: 'inbound-attempts', remotes: ['192.168.1.77'], start: 400 },
      { kind: 'volume', remotes: ['198.51.100.9'], start: 9 * 60 + 30 },
    ]);
    db.close();
  });
});
