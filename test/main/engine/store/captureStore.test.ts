import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CaptureSummary, type CaptureReport } from '../../../../src/main/engine/collect/capture/captureSummary';
import type { DecodedPacket } from '../../../../src/main/engine/collect/capture/decode';
import { countConnections, type ConnectionEntry, type SocketEntry } from '../../../../src/main/engine/collect/sockets/types';
import { ResolvedNames } from '../../../../src/main/engine/store/resolvedNames';
import { CaptureStore } from '../../../../src/main/engine/store/captureStore';
import type { Db } from '../../../../src/main/engine/store/database';
import { RoundStore } from '../../../../src/main/engine/store/rounds';
import { openTestDb } from '../../../support/db';
import { dnsAnswerPacket, dnsQueryPacket, tcpPacket } from '../collect/capture/support/frames';
import { TCP } from '../collect/capture/support/packets';

const ME = '192.168.1.10';
const PEER = '192.168.1.77';
const OTHER = '192.168.1.78';
const T0 = Date.UTC(2026, 10, 20, 9, 0);
const counters = { seen: 0, decoded: 0, malformed: 0, truncated: 0, kernelDrops: null, batches: 0, callbackErrors: 0 };
const web: SocketEntry = { proto: 'tcp', family: 4, address: '0.0.0.0', port: 8080, pid: 900, process: 'web', exe: '/usr/bin/web', user: 'www' };
const resolver: SocketEntry = { proto: 'udp', family: 4, address: ME, port: 53, pid: 400, process: 'dnsd', exe: '/usr/sbin/dnsd', user: 'root' };

let db: Db;
let rounds: RoundStore;
let store: CaptureStore;
beforeEach(() => {
  db = openTestDb().db;
  rounds = new RoundStore(db);
  store = new CaptureStore(db);
});
afterEach(() => db.close());

function report(packets: DecodedPacket[], maxPackets = 100): CaptureReport {
  const s = new CaptureSummary({ addresses: new Set([ME]) }, T0, { maxPackets });
  s.add({ packets, malformed: [] });
  return s.take(T0 + 60_000, counters);
}

function round(sockets: SocketEntry[]): number {
  return rounds.record({ host: 'box', startedAt: T0 + 60_000, endedAt: T0 + 60_010, outcome: { sockets, connections: countConnections([]) } });
}

describe('CaptureStore', () => {
  it("stores a round's flows, sampled headers and counts, linked to the sockets its scan saw", () => {
    const id = round([web, resolver]);
    const traffic = [
      tcpPacket({ src: PEER, dst: ME, sport: 50000, dport: 8080, flags: TCP.SYN, ts: T0 + 1.4 }),
      tcpPacket({ src: ME, dst: PEER, sport: 8080, dport: 50000, flags: TCP.SYN | TCP.ACK, ts: T0 + 2 }),
      tcpPacket({ src: PEER, dst: ME, sport: 50000, dport: 8080, flags: TCP.ACK, ts: T0 + 3 }),
      tcpPacket({ src: ME, dst: PEER, sport: 41000, dport: 443, flags: TCP.SYN, ts: T0 + 4 }),
      // Seen only because the interface is promiscuous: same port number, not our socket.
      tcpPacket({ src: PEER, dst: OTHER, sport: 50001, dport: 8080, flags: TCP.SYN, ts: T0 + 5 }),
      dnsQueryPacket({ src: PEER, dst: ME, sport: 5353, name: 'printer.lan', ts: T0 + 6 }),
      dnsAnswerPacket({ src: ME, dst: PEER, dport: 5353, name: 'printer.lan', address: '192.168.1.50', ts: T0 + 7 }),
    ];
    store.record(id, { state: 'on', iface: 'eth0', report: report(traffic) });

    const flows = store.flowsOf(id);
    const byKey = (proto: string, localPort: number, direction: string) => flows.filter((f) => f.proto === proto && f.localPort === localPort && f.direction === direction);
    expect(byKey('tcp', 8080, 'inbound')).toEqual([
      expect.objectContaining({ localAddr: ME, remoteAddr: PEER, remotePort: 50000, packets: 2, firstTs: T0 + 1, lastTs: T0 + 3, tcpFlags: TCP.SYN | TCP.ACK, process: 'web' }),
    ]);
    expect(byKey('tcp', 8080, 'outbound')).toEqual([expect.objectContaining({ packets: 1, process: 'web' })]);
    expect(byKey('tcp', 41000, 'outbound')).toEqual([expect.objectContaining({ portId: null, processId: null })]);
    expect(flows.find((f) => f.direction === 'transit')).toMatchObject({ localAddr: PEER, remoteAddr: OTHER, portId: null });
    expect(byKey('udp', 53, 'inbound')).toEqual([expect.objectContaining({ process: 'dnsd' })]);
    expect(flows.reduce((n, f) => n + f.packets, 0)).toBe(traffic.length);

    const packets = store.packetsOf(id);
    expect(packets).toHaveLength(traffic.length);
    const webPort = db.prepare("SELECT id FROM ports WHERE proto = 'tcp' AND port = 8080").pluck().get();
    expect(packets.filter((p) => p.portId === webPort).map((p) => p.ts)).toEqual([T0 + 1, T0 + 2, T0 + 3]);
    expect(packets.filter((p) => p.dnsQuery === 'printer.lan').map((p) => [p.dnsAnswer, p.dnsRcode, p.processId !== null])).toEqual([
      [null, null, true],
      ['192.168.1.50', 'NOERROR', true],
    ]);
    expect(packets.find((p) => p.dstAddr === OTHER)).toMatchObject({ portId: null, processId: null });

    expect(store.stateOf(id)).toEqual({
      iface: 'eth0', state: 'on', message: null, fromTs: T0, toTs: T0 + 60_000,
      packetsSeen: traffic.length, packetsKept: traffic.length, malformed: 0, kernelDrops: null, dnsOverflow: 0, flowOverflow: 0,
    });
  });

  it('counts what the per-round bound dropped', () => {
    const id = round([]);
    const traffic = Array.from({ length: 50 }, (_, i) => tcpPacket({ src: ME, dst: PEER, sport: 41000, dport: 443, flags: TCP.ACK, ts: T0 + i }));
    store.record(id, { state: 'on', iface: 'eth0', report: report(traffic, 8) });
    expect(store.packetsOf(id)).toHaveLength(8);
    expect(store.stateOf(id)).toMatchObject({ packetsSeen: 50, packetsKept: 8 });
    expect(store.flowsOf(id)).toEqual([expect.objectContaining({ packets: 50 })]);
  });

  it('records capture being off with its reason', () => {
    const id = round([web]);
    store.record(id, { state: 'off', iface: 'eth0', message: 'packet capture is off: permission denied on eth0' });
    expect(store.stateOf(id)).toMatchObject({ state: 'off', iface: 'eth0', message: 'packet capture is off: permission denied on eth0', packetsSeen: 0, kernelDrops: null });
    expect(store.flowsOf(id)).toEqual([]);
  });

  it('writes a round capture all or nothing, and it goes when its round goes', () => {
    const id = round([web]);
    const bad = report([tcpPacket({ src: ME, dst: PEER, sport: 1, dport: 2, flags: TCP.SYN, ts: T0 })]);
    bad.flows.flows.push({ ...bad.flows.flows[0]!, packets: 0 }); // violates the flows CHECK after rows were written
    expect(() => store.record(id, { state: 'on', iface: 'eth0', report: bad })).toThrow(/CHECK/);
    expect(db.prepare('SELECT (SELECT count(*) FROM flows) + (SELECT count(*) FROM packets) + (SELECT count(*) FROM round_capture)').pluck().get()).toBe(0);

    store.record(id, { state: 'on', iface: 'eth0', report: report([tcpPacket({ src: ME, dst: PEER, sport: 1, dport: 2, flags: TCP.SYN, ts: T0 })]) });
    db.prepare('DELETE FROM rounds WHERE id = ?').run(id);
    expect(db.prepare('SELECT (SELECT count(*) FROM flows) + (SELECT count(*) FROM packets) + (SELECT count(*) FROM round_capture)').pluck().get()).toBe(0);
  });
});

describe('CaptureStore: traffic of the connections a round saw', () => {
  const WEB = '93.184.216.34';
  const CHAT = '203.0.113.7';
  const firefox = { pid: 2100, process: 'firefox', exe: '/usr/lib/firefox/firefox', user: 'ann' };
  const conn = (localPort: number, remoteAddress: string, remotePort: number, owner: Partial<ConnectionEntry> = firefox): ConnectionEntry => ({
    proto: 'tcp', family: 4, localAddress: ME, localPort, remoteAddress, remotePort, state: 'established', pid: null, process: null, exe: null, user: null, ...owner,
  });

  it('names the process behind outbound traffic by 5-tuple, from this round or the one before, and never guesses', () => {
    const names = new ResolvedNames();
    rounds = new RoundStore(db, names);
    store = new CaptureStore(db, names);
    const previous = [conn(41000, CHAT, 5222, { pid: 3300, process: 'chat', exe: '/opt/chat/chat', user: 'ann' })];
    const atRound = (i: number, connected: ConnectionEntry[]) =>
      rounds.record({ host: 'box', startedAt: T0 + i * 60_000, endedAt: T0 + i * 60_000 + 10, outcome: { sockets: [web], connections: countConnections([]), connected } });
    atRound(0, previous);
    // The chat connection closed before this round's scan; firefox's opened (on a dual-stack socket).
    const current = [conn(41001, `::ffff:${WEB}`, 443), conn(41002, WEB, 80, { pid: null })];
    const id = atRound(1, current.map((c, i) => (i === 0 ? { ...c, family: 6 as const, localAddress: `::ffff:${ME}` } : c)));
    const traffic = [
      tcpPacket({ src: ME, dst: WEB, sport: 41001, dport: 443, flags: TCP.SYN, ts: T0 + 10 }),
      tcpPacket({ src: WEB, dst: ME, sport: 443, dport: 41001, flags: TCP.SYN | TCP.ACK, ts: T0 + 11 }),
      tcpPacket({ src: ME, dst: CHAT, sport: 41000, dport: 5222, flags: TCP.FIN | TCP.ACK, ts: T0 + 12 }),
      // Its owner could not be seen: no process, not a guess.
      tcpPacket({ src: ME, dst: WEB, sport: 41002, dport: 80, flags: TCP.SYN, ts: T0 + 13 }),
      // No scan saw this connection at all.
      tcpPacket({ src: ME, dst: WEB, sport: 41999, dport: 443, flags: TCP.SYN, ts: T0 + 14 }),
    ];
    store.record(id, { state: 'on', iface: 'eth0', report: report(traffic) }, { current: current.map((c, i) => (i === 0 ? { ...c, family: 6 as const, localAddress: `::ffff:${ME}` } : c)), previous });
    const byLocalPort = new Map(store.flowsOf(id).map((f) => [f.localPort, f.process]));
    expect(Object.fromEntries(byLocalPort)).toEqual({ 41001: 'firefox', 41000: 'chat', 41002: null, 41999: null });
    expect(store.packetsOf(id).map((p) => [p.srcPort === 443 ? p.dstPort : p.srcPort, p.processId !== null])).toEqual([
      [41001, true],
      [41001, true],
      [41000, true],
      [41002, false],
      [41999, false],
    ]);
  });

  it("names a remote end by the question of the last DNS answer for its address, before or after it is stored", () => {
    const names = new ResolvedNames();
    rounds = new RoundStore(db, names);
    store = new CaptureStore(db, names);
    const atRound = (i: number, connected: ConnectionEntry[]) =>
      rounds.record({ host: 'box', startedAt: T0 + i * 60_000, endedAt: T0 + i * 60_000 + 10, outcome: { sockets: [], connections: countConnections([]), connected } });
    // Round 1 already holds a connection to WEB; its answer arrives with round 1's traffic.
    const r1 = atRound(1, [conn(41001, WEB, 443)]);
    store.record(r1, { state: 'on', iface: 'eth0', report: report([dnsAnswerPacket({ src: '192.168.1.1', dst: ME, dport: 5353, name: 'www.example.com', address: WEB, ts: T0 + 20 }), dnsAnswerPacket({ src: '192.168.1.1', dst: ME, dport: 5353, name: 'chat.example.net', address: CHAT, ts: T0 + 30 })]) });
    // Round 2 opens a connection to CHAT, whose answer came a round earlier.
    atRound(2, [conn(41001, WEB, 443), conn(41003, CHAT, 5222)]);
    expect(db.prepare('SELECT address, port, name, name_at FROM remote_endpoints ORDER BY id').all()).toEqual([
      { address: WEB, port: 443, name: 'www.example.com', name_at: T0 + 20 },
      { address: CHAT, port: 5222, name: 'chat.example.net', name_at: T0 + 30 },
    ]);
    // A later answer for the same address renames it; an older one does not.
    const r3 = atRound(3, [conn(41001, WEB, 443)]);
    store.record(r3, { state: 'on', iface: 'eth0', report: report([dnsAnswerPacket({ src: '192.168.1.1', dst: ME, dport: 5353, name: 'cdn.example.org', address: WEB, ts: T0 + 40 }), dnsAnswerPacket({ src: '192.168.1.1', dst: ME, dport: 5353, name: 'old.example.org', address: WEB, ts: T0 + 5 })]) });
    expect(db.prepare('SELECT name FROM remote_endpoints WHERE address = ?').pluck().get(WEB)).toBe('cdn.example.org');
  });
});
