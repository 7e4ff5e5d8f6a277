import { afterEach, describe, expect, it } from 'vitest';
import { FEATURE_INDEX, readTrafficWindows, TRAFFIC_FEATURES, type TrafficFeature, type TrafficRow, type TrafficWindow } from '../../../../src/main/engine/traffic';
import { TRAFFIC_SQL, TrafficQueries } from '../../../../src/main/engine/traffic/trafficQueries';
import { seededRandom } from '../../../../src/shared/random';
import {
  ACK, curl, firefox, flow, lookup, ME, nobody, python, RecordedHost, ROUND_MS, RST, sshdListener, SYN, T0, updater, type RoundTraffic,
} from './support/recordedHost';

const CDN = '93.184.216.34';
const API = '203.0.113.7';
const C2 = '198.51.100.9';
const MIRROR = '198.51.100.80';

let host: RecordedHost;
afterEach(() => host?.db.close());

function rowOf(w: TrafficWindow, process: string | null): TrafficRow {
  const row = w.rows.find((r) => (process === null ? r.processId === null : r.process?.name === process));
  if (!row) throw new Error(`no row for ${process ?? 'the host'} in window ${w.firstRoundId}-${w.lastRoundId}`);
  return row;
}
const raw = (row: TrafficRow, f: TrafficFeature): number => row.raw[FEATURE_INDEX[f]] as number;
const scaled = (row: TrafficRow, f: TrafficFeature): number => row.features[FEATURE_INDEX[f]] as number;
const endpoint = (row: TrafficRow, address: string) => {
  const e = row.endpoints.find((x) => x.address === address);
  if (!e) throw new Error(`no endpoint ${address}`);
  return e;
};

/** Every value an autoencoder sees is a finite number in [0, 1]. */
function expectScaled(windows: TrafficWindow[]): void {
  for (const w of windows) {
    for (const r of w.rows) {
      expect(r.features).toHaveLength(TRAFFIC_FEATURES.length);
      for (const v of r.features) expect(v >= 0 && v <= 1).toBe(true);
    }
  }
}

describe('traffic features: remote ends new to a process, and new to the host', () => {
  it('counts what a process never talked to before the window, and what no process did', () => {
    host = new RecordedHost();
    const held = host.conn(firefox, CDN, 443);
    const curlApi = host.conn(curl, API, 443);
    for (let i = 1; i <= 5; i++) host.round(i, i === 2 || i === 3 ? [held, curlApi] : [held]);
    // From round 7 firefox also talks to the API curl used (new for firefox) and to a host no
    // process ever talked to.
    const ffApi = host.conn(firefox, API, 443);
    const ffC2 = host.conn(firefox, C2, 4444);
    for (let i = 6; i <= 10; i++) host.round(i, i >= 7 ? [held, ffApi, ffC2] : [held]);

    const windows = readTrafficWindows(host.db, { fromRoundId: 1, toRoundId: 10, windowRounds: 5 });
    expect(windows.map((w) => [w.firstRoundId, w.lastRoundId, w.rounds, w.complete])).toEqual([
      [1, 5, 5, true],
      [6, 10, 5, true],
    ]);
    const [w1, w2] = windows as [TrafficWindow, TrafficWindow];
    expect(w1.rows.map((r) => r.process?.name ?? null)).toEqual([null, 'firefox', 'curl']);
    expect(raw(rowOf(w1, 'firefox'), 'new_for_process')).toBe(1);
    expect(raw(rowOf(w1, 'curl'), 'new_anywhere')).toBe(1);

    const ff = rowOf(w2, 'firefox');
    expect(w2.rows.map((r) => r.process?.name ?? null)).toEqual([null, 'firefox']);
    expect(ff.process).toEqual({ name: 'firefox', exe: '/usr/lib/firefox/firefox', user: 'ann' });
    expect(ff.pids).toEqual([2100]);
    expect(raw(ff, 'endpoints')).toBe(3);
    expect(raw(ff, 'new_for_process')).toBe(2);
    expect(raw(ff, 'new_anywhere')).toBe(1);
    expect(raw(ff, 'new_for_process_share')).toBeCloseTo(2 / 3);
    // Sockets per round: 1 in round 6, 3 in rounds 7-10; two remote ends appeared.
    expect(raw(ff, 'sockets')).toBeCloseTo((1 + 4 * 3) / 5);
    expect(raw(ff, 'opened')).toBe(2);
    expect(raw(ff, 'remote_ports')).toBe(2);
    expect(raw(ff, 'remote_port_entropy')).toBeCloseTo(0.9183, 4);
    // Held from round 1 to round 10 (9 minutes); the two new ones from round 7 (3 minutes).
    expect(raw(ff, 'duration_max')).toBe(540);
    expect(raw(ff, 'duration_mean')).toBe((540 + 180 + 180) / 3);
    expect(raw(ff, 'capture')).toBe(0);
    expect(raw(ff, 'host')).toBe(0);

    expect(ff.endpoints.map((e) => [e.address, e.port, e.newForProcess, e.newAnywhere])).toEqual([
      [C2, 4444, true, true],
      [API, 443, true, false],
      [CDN, 443, false, false],
    ]);
    expect(endpoint(ff, API)).toMatchObject({ firstSeenAt: T0 + 2 * ROUND_MS, firstSeenByProcessAt: T0 + 7 * ROUND_MS, heldSince: T0 + 7 * ROUND_MS, sockets: 1, opened: 1 });
    expect(endpoint(ff, C2)).toMatchObject({ firstSeenAt: T0 + 7 * ROUND_MS, direction: 'out', endpointId: expect.any(Number) });
    expect(endpoint(ff, CDN)).toMatchObject({ firstSeenByProcessAt: T0 + ROUND_MS, heldSince: T0 + ROUND_MS, opened: 0 });

    // Nothing unowned: the host-wide row is there, and says nothing happened.
    const quiet = rowOf(w2, null);
    expect(raw(quiet, 'host')).toBe(1);
    expect(TRAFFIC_FEATURES.filter((f) => f !== 'host' && raw(quiet, f) !== 0)).toEqual([]);
    expectScaled(windows);
  });

  it('is the same process after a restart (name, exe and user, not the pid), and another user is another', () => {
    host = new RecordedHost();
    for (let i = 1; i <= 4; i++) host.round(i, [host.conn(firefox, CDN, 443)]);
    const restarted = { ...firefox, pid: 2200 };
    const bobs = { ...firefox, pid: 2300, user: 'bob' };
    for (let i = 5; i <= 8; i++) host.round(i, [host.conn(restarted, CDN, 443), host.conn(bobs, CDN, 443)]);

    const [w1, w2] = readTrafficWindows(host.db, { fromRoundId: 1, toRoundId: 8, windowRounds: 4 }) as [TrafficWindow, TrafficWindow];
    const ann = w2.rows.filter((r) => r.process?.user === 'ann');
    expect(ann).toHaveLength(1);
    expect(ann[0]!.processId).toBe(rowOf(w1, 'firefox').processId);
    expect(ann[0]!.pids).toEqual([2200]);
    expect(raw(ann[0]!, 'new_for_process')).toBe(0);
    const bob = w2.rows.find((r) => r.process?.user === 'bob')!;
    expect([raw(bob, 'new_for_process'), raw(bob, 'new_anywhere')]).toEqual([1, 0]);
  });
});

describe('traffic features: a name served from several addresses', () => {
  const V4 = '192.0.2.61';
  const V6 = '2001:db8::61';
  const OTHER = '203.0.113.99';

  it('is one destination: a process that talked to the name at one address is not new to it at another; a new name is', () => {
    host = new RecordedHost();
    // Round 1: the name resolves to its IPv4 address, and nextcloud holds a connection there.
    const a = lookup('cloud.example.net', V4, T0 + 20_000);
    host.round(1, [host.conn(firefox, CDN, 443)], { packets: a.packets, dns: a.dns });
    const toV4 = host.conn(updater, V4, 443);
    for (let i = 2; i <= 5; i++) host.round(i, [toV4]);
    // Round 7: the same name now answers with its IPv6 address; updater talks there, curl too
    // (new to curl, not to the host), and updater also talks to a name nobody resolved before.
    const b = lookup('cloud.example.net', V6, T0 + 6 * ROUND_MS + 20_000);
    const c = lookup('fresh.example.org', OTHER, T0 + 6 * ROUND_MS + 30_000);
    host.round(6, [], { packets: [...b.packets, ...c.packets], dns: [...b.dns, ...c.dns] });
    const toV6 = host.conn(updater, V6, 443, { family: 6 });
    const curlV6 = host.conn(curl, V6, 443, { family: 6 });
    const fresh = host.conn(updater, OTHER, 443);
    for (let i = 7; i <= 10; i++) host.round(i, [toV6, curlV6, fresh]);

    const [, w] = readTrafficWindows(host.db, { fromRoundId: 1, toRoundId: 10, windowRounds: 5 }) as [TrafficWindow, TrafficWindow];
    const up = rowOf(w, 'updater');
    expect(endpoint(up, V6)).toMatchObject({ name: 'cloud.example.net', newForProcess: false, newAnywhere: false });
    expect(endpoint(up, OTHER)).toMatchObject({ name: 'fresh.example.org', newForProcess: true, newAnywhere: true });
    expect([raw(up, 'new_for_process'), raw(up, 'new_anywhere')]).toEqual([1, 1]);
    const cu = rowOf(w, 'curl');
    expect(endpoint(cu, V6)).toMatchObject({ name: 'cloud.example.net', newForProcess: true, newAnywhere: false });
  });

  it('counts bytes to a known name at a new address as bytes to a host it knows, not one reached within the hour', () => {
    host = new RecordedHost();
    const a = lookup('cloud.example.net', V4, T0 + 20_000);
    host.round(1, [], { packets: a.packets, dns: a.dns });
    const toV4 = host.conn(updater, V4, 443);
    for (let i = 2; i <= 80; i++) host.round(i, [toV4]);
    const b = lookup('cloud.example.net', V6, T0 + 80 * ROUND_MS + 20_000);
    const toV6 = host.conn(updater, V6, 443, { family: 6, localPort: 41_999 });
    const upload = [flow({ localPort: 41_999, remoteAddr: V6, remotePort: 443, direction: 'outbound', packets: 900, bytes: 1_200_000, ts: T0 + 80 * ROUND_MS + 30_000, flags: ACK })];
    host.round(81, [toV6], { flows: upload, packets: b.packets, dns: b.dns });
    for (let i = 82; i <= 85; i++) host.round(i, [toV6], { flows: [] });

    const windows = readTrafficWindows(host.db, { fromRoundId: 81, toRoundId: 85, windowRounds: 5 });
    const up = rowOf(windows[0]!, 'updater');
    expect(raw(up, 'bytes_out')).toBe(1_200_000);
    expect(endpoint(up, V6)).toMatchObject({ name: 'cloud.example.net', newForProcess: false, recentForProcess: false });
    expect(raw(up, 'bytes_out_recent')).toBe(0);
  });
});

describe('traffic features: traffic capture could not name a process for', () => {
  it('does not call an end new to a process that the host has talked to, unnamed, for more than an hour; a beacon begun within the hour still is', () => {
    host = new RecordedHost();
    const NTP = '198.51.100.80';
    // An NTP client's exchanges last milliseconds: capture sees them every five minutes, the
    // socket table never, so no process is named for them, until a scan catches the socket in
    // round 150. A beacon's short calls begin in round 130, and a scan catches one in round 150.
    const ntpPort = (i: number) => 33_000 + i;
    const beaconPort = (i: number) => 43_000 + i;
    for (let i = 1; i <= 154; i++) {
      const flows = [];
      if (i % 5 === 0) flows.push(flow({ proto: 'udp', localPort: ntpPort(i), remoteAddr: NTP, remotePort: 123, direction: 'outbound', ts: T0 + i * ROUND_MS - 30_000 }));
      if (i >= 130 && i % 2 === 0) flows.push(flow({ localPort: beaconPort(i), remoteAddr: C2, remotePort: 443, direction: 'outbound', ts: T0 + i * ROUND_MS - 20_000, flags: SYN | ACK }));
      const caught = i === 150 ? [host.conn(updater, NTP, 123, { proto: 'udp', state: 'connected', localPort: ntpPort(i) }), host.conn(python, C2, 443, { localPort: beaconPort(i) })] : [];
      host.round(i, caught, { flows });
    }
    const [w] = readTrafficWindows(host.db, { fromRoundId: 150, toRoundId: 154, windowRounds: 5 }) as [TrafficWindow];
    expect(endpoint(rowOf(w, 'updater'), NTP)).toMatchObject({ port: 123, newForProcess: false, recentForProcess: false, newAnywhere: false });
    expect(endpoint(rowOf(w, 'python3'), C2)).toMatchObject({ port: 443, newForProcess: true, newAnywhere: false });
  });
});

describe('traffic features: how far back', () => {
  it('remembers what the socket table saw for good, and what only capture saw for the look-back', () => {
    host = new RecordedHost();
    const visit = (i: number): RoundTraffic => ({
      flows: [flow({ localPort: 50_000 + i, remoteAddr: MIRROR, remotePort: 443, direction: 'outbound', packets: 4, bytes: 400, ts: T0 + i * ROUND_MS - 10_000, flags: SYN | ACK })],
    });
    const ids: number[] = [];
    for (let i = 1; i <= 30; i++) ids.push(host.round(i, i === 1 || i === 30 ? [host.conn(firefox, CDN, 443)] : [], i === 1 || i === 30 ? visit(i) : {}));
    const read = (historyMs: number | undefined, windowsPerBatch: number) =>
      readTrafficWindows(host.db, { fromRoundId: ids[0]!, toRoundId: ids[29]!, windowRounds: 5, historyMs, windowsPerBatch });

    const short = read(10 * ROUND_MS, 6);
    const last = short[5]!;
    expect(endpoint(rowOf(last, null), MIRROR)).toMatchObject({ newAnywhere: true, endpointId: null });
    expect(endpoint(rowOf(last, 'firefox'), CDN)).toMatchObject({ newAnywhere: false, newForProcess: false });
    expect(endpoint(rowOf(read(undefined, 6)[5]!, null), MIRROR).newAnywhere).toBe(false);
    // A window reads the same in any batch: only its own look-back counts.
    expect(read(10 * ROUND_MS, 1).map((w) => w.rows.map((r) => [...r.features]))).toEqual(short.map((w) => w.rows.map((r) => [...r.features])));
  });
});

describe('traffic features: with and without packet capture', () => {
  it('reads the socket table alone when capture is off, says so, and adds volume when it is on', () => {
    host = new RecordedHost();
    const c = host.conn(curl, API, 443);
    const traffic = (i: number): RoundTraffic => ({
      flows: [
        flow({ localPort: c.localPort, remoteAddr: API, remotePort: 443, direction: 'outbound', packets: 10, bytes: 1000, ts: T0 + i * ROUND_MS - 30_000, flags: ACK }),
        flow({ localPort: c.localPort, remoteAddr: API, remotePort: 443, direction: 'inbound', packets: 8, bytes: 5000, ts: T0 + i * ROUND_MS - 29_000, flags: ACK }),
      ],
    });
    host.round(1, [c], 'off');
    host.round(2, [c], 'off');
    host.round(3, [c], traffic(3));
    host.round(4, [c], traffic(4));

    const [off, on] = readTrafficWindows(host.db, { fromRoundId: 1, toRoundId: 4, windowRounds: 2 }) as [TrafficWindow, TrafficWindow];
    expect([off.captureRounds, on.captureRounds]).toEqual([0, 2]);
    const a = rowOf(off, 'curl');
    const b = rowOf(on, 'curl');
    expect([raw(a, 'capture'), scaled(a, 'capture')]).toEqual([0, 0]);
    expect(['bytes_out', 'bytes_in', 'packets_out', 'packets_in', 'out_share'].map((f) => raw(a, f as TrafficFeature))).toEqual([0, 0, 0, 0, 0]);
    expect(raw(b, 'capture')).toBe(1);
    expect(['bytes_out', 'bytes_in', 'packets_out', 'packets_in'].map((f) => raw(b, f as TrafficFeature))).toEqual([2000, 10000, 20, 16]);
    expect(raw(b, 'out_share')).toBeCloseTo(1 / 6);
    expect(scaled(b, 'bytes_out')).toBeCloseTo(Math.log1p(2000) / Math.log1p(1e11), 6);
    expect(endpoint(b, API)).toMatchObject({ bytesOut: 2000, bytesIn: 10000, packetsOut: 20, packetsIn: 16 });
    // What the socket table says is the same either way.
    for (const f of ['sockets', 'endpoints', 'remote_ports', 'new_for_process'] as const) expect([f, raw(a, f)]).toEqual([f, f === 'new_for_process' ? 1 : raw(b, f)]);

    const [half] = readTrafficWindows(host.db, { fromRoundId: 1, toRoundId: 4, windowRounds: 4 }) as [TrafficWindow];
    expect(raw(rowOf(half, 'curl'), 'capture')).toBe(0.5);
    expectScaled([off, on, half]);
  });

  it('counts attempts that never completed: half-open sockets, and SYNs capture saw unanswered', () => {
    host = new RecordedHost();
    const attempts = [0, 1, 2].map(() => host.conn(python, C2, 4444, { state: 'syn-sent' }));
    host.round(1, attempts, {
      flows: attempts.map((a, k) => flow({ localPort: a.localPort, remoteAddr: C2, remotePort: 4444, direction: 'outbound', packets: 3, bytes: 180, ts: T0 + 10_000 + k, flags: SYN })),
    });
    const [w] = readTrafficWindows(host.db, { fromRoundId: 1, toRoundId: 1, windowRounds: 1 }) as [TrafficWindow];
    const py = rowOf(w, 'python3');
    expect([raw(py, 'half_open'), raw(py, 'failed_attempts'), raw(py, 'sockets'), raw(py, 'endpoints')]).toEqual([1, 3, 3, 1]);
    // A socket that never connected has not been held.
    expect([raw(py, 'duration_max'), endpoint(py, C2).halfOpen]).toEqual([0, true]);
  });
});

describe('traffic features: periodicity', () => {
  it('scores a process reconnecting every 5 minutes high and one at random moments low, from the socket table', () => {
    host = new RecordedHost();
    const random = seededRandom(7);
    const updates = new Set<number>();
    for (let i = 1 + Math.floor(random() * 3); i <= 120; i += 2 + Math.round(-4 * Math.log(1 - random()))) updates.add(i);
    let last = 0;
    for (let i = 1; i <= 120; i++) {
      const connected = [host.conn(firefox, CDN, 443)];
      if (i % 5 === 0) connected.push(host.conn(python, C2, 443));
      if (updates.has(i)) connected.push(host.conn(updater, MIRROR, 443));
      last = host.round(i, connected);
    }
    const [w] = readTrafficWindows(host.db, { fromRoundId: last - 9, toRoundId: last, windowRounds: 10 }) as [TrafficWindow];
    const py = rowOf(w, 'python3');
    expect(raw(py, 'periodicity')).toBe(1);
    expect(endpoint(py, C2).periodicity).toEqual({ score: 1, periodMs: 5 * ROUND_MS, arrivals: 24 });
    expect(updates.size).toBeGreaterThan(15);
    expect(raw(rowOf(w, 'updater'), 'periodicity')).toBeLessThan(0.4);
    // A connection held all along is no rhythm.
    expect(raw(rowOf(w, 'firefox'), 'periodicity')).toBe(0);
    // A rhythm begun within the hour before the window is recent; kept for two hours, it is not.
    expect(raw(py, 'recent_periodicity')).toBe(0);
    const [early] = readTrafficWindows(host.db, { fromRoundId: last - 79, toRoundId: last - 70, windowRounds: 10 }) as [TrafficWindow];
    expect(raw(rowOf(early, 'python3'), 'periodicity')).toBe(1);
    expect(raw(rowOf(early, 'python3'), 'recent_periodicity')).toBe(1);
  });

  it('finds a jittered beacon among connections only capture saw, in the host-wide row, the same in any batch', () => {
    host = new RecordedHost();
    const random = seededRandom(11);
    const opened = new Map<number, { to: string; port: number; ts: number }[]>();
    const open = (to: string, port: number, ts: number) => {
      const round = Math.ceil((ts - T0) / ROUND_MS);
      opened.set(round, [...(opened.get(round) ?? []), { to, port, ts }]);
    };
    for (let t = T0 + 5_000; t < T0 + 60 * ROUND_MS; t += 90_000 * (1 + 0.2 * (2 * random() - 1))) open(C2, 8443, t);
    for (let t = T0 + 7_000; t < T0 + 60 * ROUND_MS; t += -90_000 * Math.log(1 - random())) open(MIRROR, 443, t);
    let localPort = 50_000;
    const ids: number[] = [];
    for (let i = 1; i <= 60; i++) {
      const flows = (opened.get(i) ?? []).flatMap((o) => {
        const port = localPort++;
        return [
          flow({ localPort: port, remoteAddr: o.to, remotePort: o.port, direction: 'outbound', packets: 6, bytes: 900, ts: o.ts, flags: SYN | ACK }),
          flow({ localPort: port, remoteAddr: o.to, remotePort: o.port, direction: 'inbound', packets: 5, bytes: 1400, ts: o.ts + 30, flags: SYN | ACK }),
        ];
      });
      ids.push(host.round(i, [], { flows }));
    }
    const windows = readTrafficWindows(host.db, { fromRoundId: ids[0]!, toRoundId: ids[59]!, windowRounds: 10 });
    expect(windows).toHaveLength(6);
    const lastHost = rowOf(windows[5]!, null);
    const beacon = endpoint(lastHost, C2);
    expect(beacon.periodicity.score).toBeGreaterThan(0.7);
    expect(beacon.periodicity.periodMs).toBeGreaterThan(80_000);
    expect(beacon.periodicity.periodMs).toBeLessThan(100_000);
    expect(endpoint(lastHost, MIRROR).periodicity.score).toBeLessThan(0.4);
    expect(raw(lastHost, 'periodicity')).toBe(beacon.periodicity.score);
    // The beacon began within the hour: its rhythm is also the recent one.
    expect(raw(lastHost, 'recent_periodicity')).toBe(beacon.periodicity.score);
    // New in the first window; capture's own look-back knows both afterwards.
    expect(raw(rowOf(windows[0]!, null), 'new_anywhere')).toBe(2);
    expect(raw(lastHost, 'new_anywhere')).toBe(0);
    expect(beacon.endpointId).toBeNull();

    const oneByOne = readTrafficWindows(host.db, { fromRoundId: ids[0]!, toRoundId: ids[59]!, windowRounds: 10, windowsPerBatch: 1 });
    expect(oneByOne.map((w) => w.rows.map((r) => [...r.features]))).toEqual(windows.map((w) => w.rows.map((r) => [...r.features])));
    expectScaled(windows);
  });
});

describe('traffic features: DNS', () => {
  it('counts the lookups a process relied on, and the failed, random-looking ones nobody owns', () => {
    host = new RecordedHost();
    const random = seededRandom(3);
    const label = () => Array.from({ length: 32 }, () => 'abcdefghijklmnopqrstuvwxyz234567'[Math.floor(random() * 32)]).join('');
    const tunnel = (round: number, n: number): RoundTraffic => {
      const lookups = Array.from({ length: n }, (_, k) => lookup(`${label()}.t.evil.example`, { rcode: 'NXDOMAIN' }, T0 + round * ROUND_MS - 50_000 + k * 1000));
      return { packets: lookups.flatMap((l) => l.packets), dns: lookups.flatMap((l) => l.dns) };
    };
    // curl's address is resolved, then connected to; python3 asks a public resolver itself, on a
    // connected UDP socket the scan sees.
    const www = lookup('www.example.com', API, T0 + 20_000);
    host.round(1, [], { packets: www.packets, dns: www.dns });
    const c = host.conn(curl, API, 443);
    const resolverSocket = host.conn(python, '8.8.8.8', 53, { proto: 'udp', state: 'connected', localPort: 45_000 });
    const own = [1, 2, 3].map((k) => lookup(`x${k}.own.example`, { rcode: 'NXDOMAIN' }, T0 + 2 * ROUND_MS - 40_000 + k * 1000, 45_000, '8.8.8.8'));
    const t2 = tunnel(2, 10);
    const ownFlows = [
      flow({ proto: 'udp', localPort: 45_000, remoteAddr: '8.8.8.8', remotePort: 53, direction: 'outbound', packets: 3, bytes: 270, ts: T0 + ROUND_MS + 21_000 }),
      flow({ proto: 'udp', localPort: 45_000, remoteAddr: '8.8.8.8', remotePort: 53, direction: 'inbound', packets: 3, bytes: 270, ts: T0 + ROUND_MS + 21_020 }),
    ];
    host.round(2, [c, resolverSocket], { flows: ownFlows, packets: [...t2.packets!, ...own.flatMap((l) => l.packets)], dns: [...t2.dns!, ...own.flatMap((l) => l.dns)] });
    host.round(3, [c, resolverSocket], tunnel(3, 10));

    const [w] = readTrafficWindows(host.db, { fromRoundId: 1, toRoundId: 3, windowRounds: 3 }) as [TrafficWindow];
    const cu = rowOf(w, 'curl');
    expect(endpoint(cu, API).name).toBe('www.example.com');
    expect(['dns_lookups', 'dns_names', 'dns_failed', 'dns_label_max', 'dns_entropy_max'].map((f) => raw(cu, f as TrafficFeature))).toEqual([1, 1, 0, 7, 0]);
    expect(cu.dnsNames).toEqual([{ name: 'www.example.com', lookups: 1, failed: 0 }]);

    const py = rowOf(w, 'python3');
    expect([raw(py, 'dns_lookups'), raw(py, 'dns_names'), raw(py, 'dns_failed')]).toEqual([3, 3, 3]);
    expect(endpoint(py, '8.8.8.8')).toMatchObject({ proto: 'udp', port: 53 });

    const unowned = rowOf(w, null);
    expect([raw(unowned, 'dns_lookups'), raw(unowned, 'dns_names'), raw(unowned, 'dns_failed'), raw(unowned, 'dns_label_max'), raw(unowned, 'dns_label_mean')]).toEqual([20, 20, 20, 32, 32]);
    expect(scaled(unowned, 'dns_entropy_mean')).toBeGreaterThan(0.75);
    expect(scaled(unowned, 'dns_entropy_max')).toBeGreaterThan(scaled(unowned, 'dns_entropy_mean') - 1e-6);
    expect(unowned.dnsNames[0]).toMatchObject({ lookups: 1, failed: 1 });
    expect(unowned.dnsNames[0]!.name).toMatch(/^[a-z2-7]{32}\.t\.evil\.example$/);
    expectScaled([w]);
  });
});

describe('traffic features: a scan against this host', () => {
  it('counts attempts on ports with no listener and the most ports one address tried, apart from a real session', () => {
    host = new RecordedHost();
    const SCANNER = '203.0.113.66';
    const CLIENT = '10.0.0.5';
    const session = { proto: 'tcp' as const, family: 4 as const, localAddress: ME, localPort: 22, remoteAddress: CLIENT, remotePort: 51_000, state: 'established' as const, pid: 9001, process: 'sshd', exe: '/usr/sbin/sshd', user: 'root' };
    const flows = [
      flow({ localPort: 22, remoteAddr: CLIENT, remotePort: 51_000, direction: 'inbound', packets: 20, bytes: 4000, ts: T0 + 1000, flags: SYN | ACK }),
      flow({ localPort: 22, remoteAddr: CLIENT, remotePort: 51_000, direction: 'outbound', packets: 18, bytes: 9000, ts: T0 + 1001, flags: SYN | ACK }),
    ];
    for (let port = 1; port <= 200; port++) {
      const open = port === 22;
      flows.push(flow({ localPort: port, remoteAddr: SCANNER, remotePort: 61_000, direction: 'inbound', packets: open ? 2 : 1, bytes: 60, ts: T0 + 2000 + port, flags: open ? SYN | RST : SYN }));
      flows.push(flow({ localPort: port, remoteAddr: SCANNER, remotePort: 61_000, direction: 'outbound', packets: 1, bytes: 60, ts: T0 + 2000 + port, flags: open ? SYN | ACK : RST | ACK }));
    }
    host.round(1, [session], { flows }, [sshdListener]);

    const [w] = readTrafficWindows(host.db, { fromRoundId: 1, toRoundId: 1, windowRounds: 1 }) as [TrafficWindow];
    const all = rowOf(w, null);
    expect([raw(all, 'closed_port_attempts'), raw(all, 'max_ports_one_source')]).toEqual([199, 200]);
    expect(all.probes).toEqual([
      { remoteAddress: SCANNER, localPorts: 200, closedPorts: 199 },
      { remoteAddress: CLIENT, localPorts: 1, closedPorts: 0 },
    ]);
    // The scanner is one peer, not 199 remote ends our resets went to.
    expect([raw(all, 'accepted_peers'), raw(all, 'endpoints'), raw(all, 'new_anywhere')]).toEqual([1, 0, 1]);
    expect(endpoint(all, SCANNER)).toMatchObject({ direction: 'in', port: 0, bytesIn: 199 * 60, bytesOut: 199 * 60 });

    const sshd = rowOf(w, 'sshd');
    expect([raw(sshd, 'inbound_attempts'), raw(sshd, 'accepted_peers'), raw(sshd, 'closed_port_attempts'), raw(sshd, 'max_ports_one_source')]).toEqual([1, 2, 0, 0]);
    expect(endpoint(sshd, CLIENT)).toMatchObject({ localPorts: [22], sockets: 1, bytesIn: 4000, bytesOut: 9000 });
    expectScaled([w]);
  });
});

describe('traffic features: the shape of the input and the cost of reading it', () => {
  it('has a fixed, named order', () => {
    expect(new Set(TRAFFIC_FEATURES).size).toBe(TRAFFIC_FEATURES.length);
    expect(TRAFFIC_FEATURES.slice(0, 3)).toEqual(['host', 'capture', 'sockets']);
    expect(TRAFFIC_FEATURES.slice(-3)).toEqual(['max_ports_one_source', 'bytes_out_recent', 'recent_periodicity']);
    expect(TRAFFIC_FEATURES.map((f) => FEATURE_INDEX[f])).toEqual(TRAFFIC_FEATURES.map((_, i) => i));
  });

  it('reads each table through an index, never by scanning it', () => {
    host = new RecordedHost();
    host.round(1, [host.conn(firefox, CDN, 443)]);
    const plans = Object.entries(TRAFFIC_SQL).map(([name, sql]) => {
      const params =
        name === 'historyRounds' ? [{ since: 0, first: 1, last: 1 }] : name === 'knownEndpoints' || name === 'processes' || name === 'knownNames' ? ['[]'] : name === 'lookBackFlows' ? [1, 1, '["10.0.0.1"]'] : [1, 1];
      const plan = host.db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...params)
        .map((r) => (r as { detail: string }).detail);
      return [name, plan.join('\n')] as const;
    });
    const plan = Object.fromEntries(plans);
    for (const [name, p] of plans) expect([name, p]).not.toEqual([name, expect.stringMatching(/SCAN (rounds|connection_spans|flows|packets|remote_endpoints|endpoint_owners|round_capture|processes)\b/)]);
    expect(plan.spans).toMatch(/SEARCH s USING INDEX connection_spans_last \(last_round_id>\?\)/);
    expect(plan.spans).toMatch(/SEARCH o USING PRIMARY KEY \(process_id=\? AND endpoint_id=\?\)/);
    expect(plan.flows).toMatch(/USING INDEX flows_round/);
    expect(plan.lookBackFlows).toMatch(/USING INDEX flows_round/);
    expect(plan.dns).toMatch(/USING INDEX packets_round/);
    expect(plan.historyRounds).toMatch(/USING (COVERING )?INDEX rounds_started_at/);
    expect(plan.knownEndpoints).toMatch(/USING INDEX sqlite_autoindex_remote_endpoints_1/);
    expect(plan.knownNames).toMatch(/SEARCH e USING (COVERING )?INDEX remote_endpoints_name \(name=\? AND proto=\? AND port=\?\)/);
    expect(plan.knownNames).toMatch(/SEARCH o USING PRIMARY KEY \(process_id=\? AND endpoint_id=\?\)/);
  });

  it('hands flows over a round at a time, each as recorded, a missing value as null', () => {
    host = new RecordedHost();
    const first = host.round(1, [host.conn(curl, CDN, 443, { localPort: 41_000 })], {
      flows: [
        flow({ localPort: 41_000, remoteAddr: CDN, remotePort: 443, direction: 'outbound', ts: T0 + 10, flags: SYN }),
        flow({ localPort: null, remoteAddr: CDN, remotePort: null, direction: 'inbound', ts: T0 + 20, flags: SYN | ACK }),
        flow({ proto: 'udp', localPort: 5353, remoteAddr: C2, remotePort: 5353, direction: 'outbound', ts: T0 + 30 }),
        flow({ proto: 'icmp', localPort: null, remoteAddr: CDN, remotePort: null, direction: 'inbound', ts: T0 + 40 }),
      ],
    });
    host.round(2, [], { flows: [flow({ localPort: 41_001, remoteAddr: CDN, remotePort: 443, direction: 'outbound', ts: T0 + ROUND_MS + 5, flags: SYN })] });
    const last = host.round(3, [], { flows: [flow({ localPort: 41_002, remoteAddr: C2, remotePort: 80, direction: 'outbound', ts: T0 + 2 * ROUND_MS + 5 })] });
    const processOf = (roundId: number, ts: number) => host.db.prepare('SELECT process_id FROM flows WHERE round_id = ? AND first_ts = ?').pluck().get(roundId, ts) as number | null;
    const curlId = processOf(first, T0 + 10);
    expect(curlId).not.toBeNull();
    const rounds = [...new TrafficQueries(host.db).lookBackFlows(first, last, [CDN, C2])];
    // Rounds in order, TCP and UDP only (no ICMP), each round's flows in the order recorded.
    expect(rounds).toEqual([
      [
        [first, 'tcp', 41_000, CDN, 443, 'outbound', T0 + 10, SYN, 0, curlId],
        [first, 'tcp', null, CDN, null, 'inbound', T0 + 20, SYN | ACK, 0, processOf(first, T0 + 20)],
        [first, 'udp', 5353, C2, 5353, 'outbound', T0 + 30, 0, 0, null],
      ],
      [[first + 1, 'tcp', 41_001, CDN, 443, 'outbound', T0 + ROUND_MS + 5, SYN, 0, null]],
      [[last, 'tcp', 41_002, C2, 80, 'outbound', T0 + 2 * ROUND_MS + 5, 0, 0, null]],
    ]);
    // The windows' own flows the same way, every protocol, as objects.
    const own = [...new TrafficQueries(host.db).flows(first, last)];
    expect(own.map((r) => r.map((f) => [f.roundId, f.proto, f.firstTs]))).toEqual([
      [[first, 'tcp', T0 + 10], [first, 'tcp', T0 + 20], [first, 'udp', T0 + 30], [first, 'icmp', T0 + 40]],
      [[first + 1, 'tcp', T0 + ROUND_MS + 5]],
      [[last, 'tcp', T0 + 2 * ROUND_MS + 5]],
    ]);
    expect(own[0]![1]).toEqual({
      roundId: first, proto: 'tcp', localPort: null, remoteAddr: CDN, remotePort: null, direction: 'inbound', packets: 1, bytes: 60, firstTs: T0 + 20, tcpFlags: SYN | ACK, portId: null,
      processId: processOf(first, T0 + 20),
    });
    expect(own[0]![0]).toMatchObject({ localPort: 41_000, remotePort: 443, direction: 'outbound', processId: curlId });
    // Only the addresses asked for.
    expect([...new TrafficQueries(host.db).lookBackFlows(first, last, [C2])].map((r) => r.map((f) => f[6]))).toEqual([[T0 + 30], [T0 + 2 * ROUND_MS + 5]]);
    expect([...new TrafficQueries(host.db).lookBackFlows(first, last, ['203.0.113.1'])]).toEqual([]);
  });

  it('refuses a window of no rounds', () => {
    host = new RecordedHost();
    expect(() => readTrafficWindows(host.db, { fromRoundId: 1, toRoundId: 1, windowRounds: 0 })).toThrow(RangeError);
    expect(readTrafficWindows(host.db, { fromRoundId: 1, toRoundId: 9, windowRounds: 5 })).toEqual([]);
    host.round(1, [host.conn(nobody, CDN, 443)]);
    const [w] = readTrafficWindows(host.db, { fromRoundId: 1, toRoundId: 9, windowRounds: 5 }) as [TrafficWindow];
    expect([w.rounds, w.complete, w.rows.length, raw(rowOf(w, null), 'endpoints')]).toEqual([1, false, 1, 1]);
  });
});

describe('traffic features: bytes out to hosts reached within the hour', () => {
  it('counts bytes to a remote end for an hour after the process first talked to it, not only in its first window', () => {
    host = new RecordedHost();
    const server = host.conn(curl, API, 443);
    let upload: ReturnType<RecordedHost['conn']> | null = null;
    const ids: number[] = [];
    for (let i = 1; i <= 170; i++) {
      const ts = T0 + i * ROUND_MS - 20_000;
      const flows = [flow({ localPort: server.localPort, remoteAddr: API, remotePort: 443, direction: 'outbound', packets: 3, bytes: 3_000, ts, flags: ACK })];
      // From round 91 on, a second connection, to a host the program never talked to, uploads.
      if (i > 90) {
        upload ??= host.conn(curl, C2, 443);
        flows.push(flow({ localPort: upload.localPort, remoteAddr: C2, remotePort: 443, direction: 'outbound', packets: 40, bytes: 50_000, ts, flags: ACK }));
      }
      ids.push(host.round(i, upload ? [server, upload] : [server], { flows }));
    }
    const windows = readTrafficWindows(host.db, { fromRoundId: ids[0]!, toRoundId: ids.at(-1)!, windowRounds: 10 });
    const at = (k: number) => rowOf(windows[k]!, 'curl');
    // The server, first reached 70 minutes before the window: its bytes are not to a recent host.
    expect([raw(at(7), 'bytes_out'), raw(at(7), 'bytes_out_recent')]).toEqual([30_000, 0]);
    // The upload's first window: new, and recent.
    expect(endpoint(at(9), C2)).toMatchObject({ newForProcess: true, recentForProcess: true });
    expect(raw(at(9), 'bytes_out_recent')).toBe(500_000);
    // Half an hour on: no longer new, still recent; the server's bytes still do not count.
    expect(endpoint(at(12), C2)).toMatchObject({ newForProcess: false, recentForProcess: true });
    expect([raw(at(12), 'bytes_out'), raw(at(12), 'bytes_out_recent')]).toEqual([530_000, 500_000]);
    // More than an hour after the first contact: an established remote end.
    expect(endpoint(at(16), C2)).toMatchObject({ newForProcess: false, recentForProcess: false });
    expect(raw(at(16), 'bytes_out_recent')).toBe(0);
  });
});
