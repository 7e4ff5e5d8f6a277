import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import type { RoundStore } from '../../../../src/main/engine/store/rounds';
import { countConnections, type SocketEntry } from '../../../../src/main/engine/collect/sockets/types';
import { CHANNELS, CONTEXT_SIZE, buildInput, readFeatures, timeContext } from '../../../../src/main/engine/detect/features';
import { openTestStore } from '../../../support/db';

let db: Db;
let store: RoundStore;
beforeEach(() => {
  ({ db, store } = openTestStore());
});
afterEach(() => db.close());

const sock = (proto: 'tcp' | 'udp', port: number, family: 4 | 6 = 4): SocketEntry => ({ proto, family, address: family === 4 ? '0.0.0.0' : '::', port, pid: 10, process: 'p', exe: '/p', user: 'u' });
// Tuesday 3 March 2026, 14:30 local time.
const T = new Date(2026, 2, 3, 14, 30).getTime();

function record(t: number, sockets: SocketEntry[]): { id: number; startedAt: number } {
  return { id: store.record({ host: 'h', startedAt: t, endedAt: t + 5, outcome: { sockets, connections: countConnections([]) } }), startedAt: t };
}

describe('features from a real SQLite file', () => {
  it('puts TCP listeners in channel 0 and UDP sockets in channel 1, at full resolution', () => {
    const r = record(T, [sock('tcp', 22), sock('tcp', 22, 6), sock('udp', 53), sock('tcp', 65_535), sock('tcp', 50_000)]);
    const [f] = readFeatures(db, [r]);
    expect([...f!.active]).toEqual([22 * CHANNELS, 53 * CHANNELS + 1, 50_000 * CHANNELS, 65_535 * CHANNELS]);
    const { occupancy, context } = buildInput(db, [r]);
    expect(occupancy.length).toBe(65_536 * CHANNELS);
    expect(occupancy.reduce((a, b) => a + b, 0)).toBe(4);
    expect(occupancy[65_535 * CHANNELS]).toBe(1); // a listener on a high TCP port is still a server
    expect(context.length).toBe(CONTEXT_SIZE);
  });

  it('counts ephemeral UDP sockets instead of setting their bits', () => {
    const r = record(T, [sock('udp', 32_768), sock('udp', 45_000), sock('udp', 60_999), sock('udp', 65_535), sock('udp', 32_767), sock('udp', 5353)]);
    const [f] = readFeatures(db, [r]);
    expect(f!.ephemeralUdp).toBe(4);
    expect([...f!.active]).toEqual([5353 * CHANNELS + 1, 32_767 * CHANNELS + 1]);
    expect(f!.context[4]).toBeGreaterThan(0);
    const [linuxOnly] = readFeatures(db, [r], { ephemeralUdp: [32_768, 60_999] });
    expect(linuxOnly!.ephemeralUdp).toBe(3);
  });

  it('counts a client\'s ephemeral UDP ports, and keeps a service\'s port in that range as a cell', () => {
    const own = (process: string, port: number): SocketEntry => ({ ...sock('udp', port), process, exe: `/usr/bin/${process}` });
    const r = record(T, [own('firefox', 40_001), own('firefox', 40_002), own('wireguard', 51_820), sock('tcp', 22)]);
    const idOf = (name: string) => db.prepare<[string], number>('SELECT id FROM processes WHERE name = ?').pluck().get(name)!;
    // firefox is a known client: its ports are counted, wireguard's listening port is a cell.
    const [f] = readFeatures(db, [r], { ephemeralUdp: [32_768, 60_999], clientUdpOwners: new Set([idOf('firefox')]) });
    expect(f!.ephemeralUdp).toBe(2);
    expect([...f!.active]).toEqual([22 * CHANNELS, 51_820 * CHANNELS + 1]);
    // Without the list of clients every UDP port in the range is counted.
    const [all] = readFeatures(db, [r], { ephemeralUdp: [32_768, 60_999] });
    expect(all!.ephemeralUdp).toBe(3);
    expect([...all!.active]).toEqual([22 * CHANNELS]);
    // A service's port beyond a smaller test dimension is left out, as any other.
    const [small] = readFeatures(db, [r], { ports: 1024, ephemeralUdp: [32_768, 60_999], clientUdpOwners: new Set([idOf('firefox')]) });
    expect([...small!.active]).toEqual([22 * CHANNELS]);
  });

  it('reads many rounds in batches, keeping each round\'s own sockets and order', () => {
    const rounds = [record(T, [sock('tcp', 1)]), record(T + 60_000, []), record(T + 120_000, [sock('tcp', 2), sock('udp', 2)])];
    const features = readFeatures(db, [...rounds].reverse(), { batchSize: 2 });
    expect(features.map((f) => f.roundId)).toEqual(rounds.map((r) => r.id).reverse());
    expect(features.map((f) => [...f.active])).toEqual([[4, 5], [], [2]]);
  });

  it('ignores ports beyond a smaller test dimension rather than wrapping them', () => {
    const r = record(T, [sock('tcp', 10), sock('tcp', 2000)]);
    expect([...readFeatures(db, [r], { ports: 1024 })[0]!.active]).toEqual([20]);
  });

  it('encodes the local hour of day and day of week on circles', () => {
    const c = timeContext(T, 0);
    const hour = 14.5 / 24;
    expect(c[0]).toBeCloseTo(Math.sin(2 * Math.PI * hour), 6);
    expect(c[1]).toBeCloseTo(Math.cos(2 * Math.PI * hour), 6);
    expect(c[2]).toBeCloseTo(Math.sin((2 * Math.PI * (2 + hour)) / 7), 6);
    // 23:59 and 00:01 are neighbours.
    const a = timeContext(new Date(2026, 2, 3, 23, 59).getTime(), 0);
    const b = timeContext(new Date(2026, 2, 4, 0, 1).getTime(), 0);
    expect(Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!)).toBeLessThan(0.01);
  });
});
