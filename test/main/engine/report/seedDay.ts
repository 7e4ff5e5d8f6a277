import type { Db } from '../../../../src/main/engine/store/database';
import { RoundStore } from '../../../../src/main/engine/store/rounds';
import { DetectionStore } from '../../../../src/main/engine/store/detectionStore';
import { countConnections, type ConnectionEntry, type SocketEntry } from '../../../../src/main/engine/collect/sockets/types';
import { reportPeriod, type ReportPeriod } from '../../../../src/main/engine/report/reportPeriod';

export const MINUTE = 60_000;
/** The day the seeded report is of, with the default report time: 2026-11-20 09:00 to 2026-11-21 09:00, local. */
export const DAY = '2026-11-21';
export const PERIOD: ReportPeriod = reportPeriod(DAY, '09:00');
/** Minutes after the period's start. */
export const at = (minutes: number): number => PERIOD.from + minutes * MINUTE;

const listener = (port: number, pid: number, process: string, user = 'root'): SocketEntry => ({
  proto: 'tcp', family: 4, address: '0.0.0.0', port, pid, process, exe: `/usr/bin/${process}`, user,
});
let localPort = 40000;
const out = (pid: number, process: string, remoteAddress: string, remotePort: number): ConnectionEntry => ({
  proto: 'tcp', family: 4, localAddress: '192.168.1.20', localPort: localPort++, remoteAddress, remotePort, state: 'established', pid, process, exe: `/usr/bin/${process}`, user: 'ann',
});

/** The minutes (after the period's start) of the rounds recorded: two before it, then 10:00-10:29 and 14:00-14:19. */
export const ROUND_MINUTES = [-120, -119, ...Array.from({ length: 30 }, (_, i) => 60 + i), ...Array.from({ length: 20 }, (_, i) => 300 + i)];

function socketsAt(m: number): SocketEntry[] {
  return [
    listener(22, 812, 'sshd'),
    ...(m >= 65 && m < 90 ? [listener(4444, 4242, 'nc', 'ann')] : []),
    ...(m >= 300 ? [listener(2222, 812, 'sshd'), listener(8000, 5100, 'python3', 'ann')] : []),
  ];
}

function connectedAt(m: number): ConnectionEntry[] {
  return [
    out(2100, 'firefox', '93.184.216.34', 443),
    ...(m >= 70 && m < 90 ? [out(2100, 'firefox', '151.101.1.1', 443)] : []),
    ...(m >= 66 && m < 90 ? [out(4242, 'bash', '203.0.113.9', 4444)] : []),
    ...(m >= 305 && m <= 306 ? [out(3000, 'curl', '198.51.100.7', 80)] : []),
    // A peer sshd accepted: port 0 in remote_endpoints, so sshd does not count as talking out.
    ...(m >= 80 && m < 85 ? [{ ...out(9001, 'sshd', '10.0.0.5', 51234), localPort: 22, exe: '/usr/bin/sshd', user: 'root' }] : []),
  ];
}

export interface SeededDay {
  rounds: Map<number, number>;
  incidents: { before: number; across: number; nc: number; bash: number };
}

/**
 * A known day on a real database, written through the real stores where Portent has one (rounds,
 * sockets, connections, incidents, models): the rounds of ROUND_MINUTES; sshd listening on 22
 * from before the period and on 2222 from 14:00; nc on 4444 from 10:05 and python3 on 8000 from
 * 14:00 (both listening for the first time); firefox talking to example.com since before the
 * period and to 151.101.1.1 from 10:10; bash calling 203.0.113.9:4444 from 10:06 and curl
 * 198.51.100.7:80 at 14:05 (both talking out for the first time); sshd accepting 10.0.0.5.
 * Captured flows, capture health per round, four incidents (one before the period, one reaching
 * into it, two in it), three models (before, in and after the period), detections and cleanups.
 */
export function seedDay(db: Db): SeededDay {
  const store = new RoundStore(db);
  const rounds = new Map<number, number>();
  for (const m of ROUND_MINUTES) {
    const connected = connectedAt(m);
    rounds.set(m, store.record({ host: 'h', startedAt: at(m), endedAt: at(m) + 20, outcome: { sockets: socketsAt(m), connections: countConnections(connected), connected } }));
  }
  db.prepare("UPDATE remote_endpoints SET name = 'example.com', name_at = ? WHERE address = '93.184.216.34'").run(at(-121));

  // Capture: on for the first block (one round with 2 kernel drops), on then off in the second.
  const capture = db.prepare('INSERT INTO round_capture (round_id, iface, state, message, packets_seen, packets_kept, kernel_drops) VALUES (?, ?, ?, ?, ?, ?, ?)');
  for (const m of ROUND_MINUTES.filter((x) => x >= 60)) {
    if (m < 90) capture.run(rounds.get(m), 'eth0', 'on', null, 100, 50, m === 61 ? 2 : 0);
    else if (m < 315) capture.run(rounds.get(m), 'eth0', 'on', null, 10, 10, null);
    else capture.run(rounds.get(m), null, 'off', 'packet capture is off: disabled in settings', 0, 0, null);
  }

  const processId = db.prepare<[string], number>('SELECT id FROM processes WHERE name = ?').pluck();
  const flow = db.prepare(
    `INSERT INTO flows (round_id, proto, local_addr, local_port, remote_addr, remote_port, direction, packets, bytes, first_ts, last_ts, process_id)
     VALUES (?, 'tcp', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const f = (m: number, process: string | null, local: [string, number], remote: [string, number], direction: string, bytes: number) =>
    flow.run(rounds.get(m), local[0], local[1], remote[0], remote[1], direction, 10, bytes, at(m) + 500, at(m) + 900, process === null ? null : processId.get(process));
  f(62, 'firefox', ['192.168.1.20', 40001], ['93.184.216.34', 443], 'outbound', 1000);
  f(62, 'firefox', ['192.168.1.20', 40001], ['93.184.216.34', 443], 'inbound', 50_000);
  f(67, 'bash', ['192.168.1.20', 40100], ['203.0.113.9', 4444], 'outbound', 48_000);
  f(67, 'bash', ['192.168.1.20', 40100], ['203.0.113.9', 4444], 'inbound', 1_200);
  f(63, null, ['192.168.1.20', 40200], ['1.1.1.1', 853], 'outbound', 300);
  f(301, 'python3', ['127.0.0.1', 45000], ['127.0.0.1', 8000], 'local', 200);
  // Before the period: not counted.
  f(-120, 'firefox', ['192.168.1.20', 40000], ['93.184.216.34', 443], 'outbound', 12_345);

  const detection = new DetectionStore(db);
  const runAt = (m: number, status: 'ok' | 'failed') => {
    const run = detection.startRun('schedule', at(m), 'wasm');
    detection.finishRun(run, { endedAt: at(m) + 1000, status, roundsScored: 1, incidents: 0, modelVersion: null, ...(status === 'failed' ? { error: 'worker died' } : {}) });
    return run;
  };
  const before = runAt(-119, 'ok');
  const inside = [runAt(61, 'ok'), runAt(90, 'failed'), runAt(301, 'ok')];
  const incident = (run: number, fromMinute: number, toMinute: number, sentence: string) =>
    detection.insertIncident(run, {
      startRoundId: rounds.get(ROUND_MINUTES.find((m) => m >= fromMinute)!)!,
      endRoundId: rounds.get(ROUND_MINUTES.find((m) => m >= toMinute)!)!,
      startedAt: at(fromMinute),
      endedAt: at(toMinute),
      rounds: 1,
      peakScore: 9,
      threshold: 4,
      sentence,
      ports: [],
    });
  const incidents = {
    before: incident(before, -120, -119, 'Port 631/tcp stopped listening: cupsd.'),
    across: incident(inside[0]!, -119, 61, 'Port 22/tcp is held by sshd at an unusual hour.'),
    nc: incident(inside[0]!, 65, 66, 'Port 4444/tcp started listening: nc, never seen before.'),
    bash: incident(inside[0]!, 67, 70, 'bash opened connections to 203.0.113.9:4444 every 60 s.'),
  };
  db.prepare("UPDATE incidents SET status = 'seen', kind = 'traffic', traffic_kind = 'beacon', process_id = ? WHERE id = ?").run(processId.get('bash'), incidents.bash);
  db.prepare("UPDATE incidents SET status = 'dismissed' WHERE id = ?").run(incidents.across);

  const model = (version: number, createdAt: number, threshold: number | null, roundsSeen: number) =>
    detection.recordModel({ version, createdAt, backend: 'wasm', threshold, architecture: {}, history: [], roundsTrained: roundsSeen, roundsSeen });
  model(1, at(-119), null, 2);
  model(2, at(302), 0.042, 400);
  model(3, PERIOD.to + 10 * MINUTE, 0.05, 460);

  const cleanup = db.prepare(
    `INSERT INTO cleanup_runs (trigger, started_at, ended_at, status, removed_round_ports, removed_connections, removed_packets, removed_flows, removed_traffic_windows, removed_for_cap, removed_report_files, bytes_before, bytes_after)
     VALUES ('schedule', ?, ?, 'ok', ?, ?, ?, ?, ?, 0, ?, ?, ?)`,
  );
  cleanup.run(at(-200), at(-199), 9, 9, 9, 9, 9, 9, 1000, 900);
  cleanup.run(at(18 * 60 + 30), at(18 * 60 + 31), 120, 4, 3000, 80, 6, 2, 5_000_000, 4_000_000);
  return { rounds, incidents };
}
