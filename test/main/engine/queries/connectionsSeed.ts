import type { Db } from '../../../../src/main/engine/store/database';
import { RoundStore } from '../../../../src/main/engine/store/rounds';
import { countConnections, type ConnectionEntry, type ConnectionState, type SocketEntry } from '../../../../src/main/engine/collect/sockets/types';

export const MINUTE = 60_000;
export const T0 = Date.UTC(2026, 10, 20, 9, 0);

const sshd: SocketEntry = { proto: 'tcp', family: 4, address: '0.0.0.0', port: 22, pid: 812, process: 'sshd', exe: '/usr/sbin/sshd', user: 'root' };
const web: SocketEntry = { proto: 'tcp', family: 4, address: '127.0.0.1', port: 8080, pid: 3100, process: 'node', exe: '/usr/bin/node', user: 'ann' };

type Owner = Pick<ConnectionEntry, 'pid' | 'process' | 'exe' | 'user'>;
const owner = (pid: number, process: string, exe: string, user = 'ann'): Owner => ({ pid, process, exe, user });
const firefox = owner(2100, 'firefox', '/usr/lib/firefox/firefox');
const bash = owner(4242, 'bash', '/usr/bin/bash');
const curl = owner(3000, 'curl', '/usr/bin/curl');
const unknown: Owner = { pid: null, process: null, exe: null, user: null };

let localPort = 40000;
function conn(o: Owner, remoteAddress: string, remotePort: number, state: ConnectionState = 'established', local: Partial<ConnectionEntry> = {}): ConnectionEntry {
  return { proto: 'tcp', family: 4, localAddress: '192.168.1.20', localPort: localPort++, remoteAddress, remotePort, state, ...o, ...local };
}
const accepted = (o: Owner, localPort: number, remoteAddress: string, remotePort: number): ConnectionEntry => ({
  proto: 'tcp', family: 4, localAddress: remoteAddress === '127.0.0.1' ? '127.0.0.1' : '192.168.1.20', localPort, remoteAddress, remotePort, state: 'established', ...o,
});
const times = (n: number, c: () => ConnectionEntry): ConnectionEntry[] => Array.from({ length: n }, c);

/** Round i's connected sockets (i = -1: an hour before T0; 0..9: one a minute from T0). */
function connectedAt(i: number): ConnectionEntry[] {
  if (i < 0) return [conn(firefox, '93.184.216.34', 443)];
  return [
    ...times(i >= 3 && i <= 6 ? 2 : 1, () => conn(firefox, '93.184.216.34', 443)),
    ...(i === 6 ? [conn(firefox, '93.184.216.34', 443, 'close-wait')] : []),
    ...(i >= 8 ? [conn(firefox, '151.101.1.1', 443)] : []),
    ...(i === 5 ? [conn(bash, '203.0.113.9', 4444, 'syn-sent')] : i >= 6 ? [conn(bash, '203.0.113.9', 4444)] : []),
    ...(i >= 2 ? [accepted(owner(9001, 'sshd', '/usr/sbin/sshd', 'root'), 22, '10.0.0.5', 51234)] : []),
    ...(i >= 4 ? [accepted(owner(9001, 'sshd', '/usr/sbin/sshd', 'root'), 22, '10.0.0.5', 51301)] : []),
    ...(i <= 4 ? [conn(unknown, '1.1.1.1', 853)] : []),
    ...(i >= 1 && i <= 3 ? [conn(curl, '127.0.0.1', 8080, 'established', { localAddress: '127.0.0.1', localPort: 45000 }), accepted(owner(3100, 'node', '/usr/bin/node'), 8080, '127.0.0.1', 45000)] : []),
  ];
}

/**
 * Eleven rounds written by the real RoundStore (so the spans come from the real writer): one an
 * hour before T0, then ten a minute apart from T0. firefox talks with example.com (since before
 * T0, up to three sockets at once in two states) and, from T0+8m, with 151.101.1.1; bash
 * reaches 203.0.113.9:4444 from T0+5m (syn-sent, then established); sshd accepts two
 * connections from 10.0.0.5 on 22; a process nobody could name talks with 1.1.1.1:853 until
 * T0+4m; curl talks with node on 127.0.0.1:8080 from T0+1m to T0+3m. Returns round ids by i.
 */
export function seedConnections(db: Db): Map<number, number> {
  const store = new RoundStore(db);
  const ids = new Map<number, number>();
  for (const i of [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) {
    const at = i < 0 ? T0 - 60 * MINUTE : T0 + i * MINUTE;
    const connected = connectedAt(i);
    ids.set(i, store.record({ host: 'h', startedAt: at, endedAt: at + 20, outcome: { sockets: [sshd, web], connections: countConnections(connected), connected } }));
  }
  db.prepare("UPDATE remote_endpoints SET name = 'example.com', name_at = ? WHERE address = '93.184.216.34'").run(T0 - 61 * MINUTE);
  return ids;
}

export interface FlowRow {
  round: number;
  process: string | null;
  local: [string, number];
  remote: [string, number];
  direction: 'outbound' | 'inbound' | 'local' | 'transit';
  bytes: number;
  packets: number;
  at: number;
}

/** Inserts captured flows as CaptureStore stores them, naming the owner by process name. */
export function insertFlows(db: Db, rounds: Map<number, number>, flows: readonly FlowRow[]): void {
  const processId = db.prepare<[string], number>('SELECT id FROM processes WHERE name = ?').pluck();
  const insert = db.prepare(
    `INSERT INTO flows (round_id, proto, local_addr, local_port, remote_addr, remote_port, direction, packets, bytes, first_ts, last_ts, process_id)
     VALUES (?, 'tcp', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const f of flows) {
    insert.run(rounds.get(f.round)!, f.local[0], f.local[1], f.remote[0], f.remote[1], f.direction, f.packets, f.bytes, f.at, f.at + 500, f.process === null ? null : processId.get(f.process)!);
  }
}

/** The traffic the tests expect: firefox's with example.com, sshd's, node's over loopback, and the unknown owner's. */
export const FLOWS: FlowRow[] = [
  { round: 2, process: 'firefox', local: ['192.168.1.20', 40001], remote: ['93.184.216.34', 443], direction: 'outbound', bytes: 1000, packets: 10, at: T0 + 90_000 },
  { round: 2, process: 'firefox', local: ['192.168.1.20', 40001], remote: ['93.184.216.34', 443], direction: 'inbound', bytes: 50_000, packets: 40, at: T0 + 91_000 },
  { round: 4, process: 'firefox', local: ['192.168.1.20', 40007], remote: ['93.184.216.34', 443], direction: 'outbound', bytes: 500, packets: 5, at: T0 + 210_000 },
  // Not with this endpoint (another port), or before the range: not counted.
  { round: 4, process: 'firefox', local: ['192.168.1.20', 40008], remote: ['93.184.216.34', 80], direction: 'outbound', bytes: 999, packets: 9, at: T0 + 215_000 },
  { round: -1, process: 'firefox', local: ['192.168.1.20', 40000], remote: ['93.184.216.34', 443], direction: 'outbound', bytes: 12_345, packets: 12, at: T0 - 61 * MINUTE },
  // Traffic nobody owns with example.com is not firefox's.
  { round: 3, process: null, local: ['192.168.1.20', 40002], remote: ['93.184.216.34', 443], direction: 'inbound', bytes: 777, packets: 7, at: T0 + 150_000 },
  { round: 3, process: 'sshd', local: ['192.168.1.20', 22], remote: ['10.0.0.5', 51234], direction: 'inbound', bytes: 3000, packets: 30, at: T0 + 150_000 },
  { round: 3, process: 'sshd', local: ['192.168.1.20', 22], remote: ['10.0.0.5', 51234], direction: 'outbound', bytes: 7000, packets: 25, at: T0 + 150_000 },
  // Loopback: both rows name the listener's process (the local end of one, the remote end of the other).
  { round: 2, process: 'node', local: ['127.0.0.1', 45000], remote: ['127.0.0.1', 8080], direction: 'local', bytes: 200, packets: 2, at: T0 + 100_000 },
  { round: 2, process: 'node', local: ['127.0.0.1', 8080], remote: ['127.0.0.1', 45000], direction: 'local', bytes: 4000, packets: 4, at: T0 + 100_000 },
  { round: 1, process: null, local: ['192.168.1.20', 40003], remote: ['1.1.1.1', 853], direction: 'outbound', bytes: 300, packets: 3, at: T0 + 30_000 },
];
