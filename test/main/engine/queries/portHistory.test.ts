import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { mergeRuns, portHistory } from '../../../../src/main/engine/queries/portHistory';
import { PortHistorySchema } from '../../../../src/shared/contract';
import { openTestDb } from '../../../support/db';
import { HISTORY_FORMS, MINUTE, minutes, planOf, seedRounds, socket, T0 } from './seed';

let db: Db;
beforeEach(() => {
  db = openTestDb().db;
});
afterEach(() => db.close());

describe('mergeRuns', () => {
  it('merges consecutive rounds, breaking at a missing round or a gap of more than 2.5 steps', () => {
    const times = [0, 60, 120, 180, 240, 600, 660, 720];
    const held = [true, true, false, true, true, true, true, true];
    expect(mergeRuns(times, (i) => (held[i] ? ['x'] : []))).toEqual([
      { key: 'x', from: 0, to: 60 },
      { key: 'x', from: 180, to: 240 },
      { key: 'x', from: 600, to: 720 },
    ]);
    expect(mergeRuns([5], () => ['only'])).toEqual([{ key: 'only', from: 5, to: 5 }]);
    expect(mergeRuns([], () => ['x'])).toEqual([]);
  });
});

describe.each(HISTORY_FORMS)('portHistory (history kept as %s)', (form) => {
  it('gives occupied intervals, owners over time and traffic per bucket', () => {
    // 30 rounds, then the monitor stops for an hour, then 10 more.
    const times = [...minutes(30), ...minutes(10, T0 + 90 * MINUTE)];
    const ids = seedRounds(db, times, (i) => {
      if (i < 10) return [socket('tcp', 8080, 'python', 20, 4), socket('tcp', 8080, 'python', 20, 6)];
      if (i < 15) return [];
      if (i < 30) return [socket('tcp', 8080, 'node', 30)];
      return [socket('tcp', 8080, 'node', 31)];
    }, form);
    const insertFlow = db.prepare(
      `INSERT INTO flows (round_id, proto, local_addr, local_port, remote_addr, remote_port, direction, packets, bytes, first_ts, last_ts, port_id)
       VALUES (?, 'tcp', '127.0.0.1', 8080, '127.0.0.1', 50000, 'local', ?, ?, ?, ?, (SELECT id FROM ports WHERE port = 8080))`,
    );
    insertFlow.run(ids[2], 4, 400, T0 + 2 * MINUTE, T0 + 2 * MINUTE + 10);
    insertFlow.run(ids[3], 6, 600, T0 + 3 * MINUTE, T0 + 3 * MINUTE + 10);
    insertFlow.run(ids[35], 1, 60, T0 + 95 * MINUTE, T0 + 95 * MINUTE);

    const h = portHistory(db, { proto: 'tcp', port: 8080, from: T0, to: T0 + 100 * MINUTE, buckets: 4 });
    expect(PortHistorySchema.parse(h)).toEqual(h);
    expect(h.firstSeenAt).toBe(T0);
    expect(h.lastSeenAt).toBe(T0 + 99 * MINUTE);
    expect(h.occupied).toEqual([
      { from: T0, to: T0 + 9 * MINUTE },
      { from: T0 + 15 * MINUTE, to: T0 + 29 * MINUTE },
      { from: T0 + 90 * MINUTE, to: T0 + 99 * MINUTE },
    ]);
    expect(h.owners).toEqual([
      { process: 'python', exe: '/usr/bin/python', user: 'root', pid: 20, from: T0, to: T0 + 9 * MINUTE },
      { process: 'node', exe: '/usr/bin/node', user: 'root', pid: 30, from: T0 + 15 * MINUTE, to: T0 + 29 * MINUTE },
      { process: 'node', exe: '/usr/bin/node', user: 'root', pid: 31, from: T0 + 90 * MINUTE, to: T0 + 99 * MINUTE },
    ]);
    expect(h.traffic).toEqual([
      { at: T0, packets: 10, bytes: 1000, flows: 2 },
      { at: T0 + 25 * MINUTE, packets: 0, bytes: 0, flows: 0 },
      { at: T0 + 50 * MINUTE, packets: 0, bytes: 0, flows: 0 },
      { at: T0 + 75 * MINUTE, packets: 1, bytes: 60, flows: 1 },
    ]);
  });

  it('says how many rounds had capture on, and where Portent was not recording', () => {
    const ids = seedRounds(db, [...minutes(10), ...minutes(10, T0 + 30 * MINUTE)], () => [socket('tcp', 8080, 'node', 30)], form);
    const capture = db.prepare("INSERT INTO round_capture (round_id, iface, state) VALUES (?, 'eth0', ?)");
    for (const id of ids.slice(0, 4)) capture.run(id, 'on');
    capture.run(ids[4], 'off');
    const h = portHistory(db, { proto: 'tcp', port: 8080, from: T0, to: T0 + 40 * MINUTE, buckets: 4 });
    expect(PortHistorySchema.parse(h)).toEqual(h);
    expect(h).toMatchObject({ rounds: 20, captureRounds: 4 });
    expect(h.gaps).toEqual([{ from: T0 + 10 * MINUTE, to: T0 + 30 * MINUTE, reason: 'unknown', detail: null }]);
    // Told by the live monitor: it was started during the gap, so it had been stopped.
    const live = { monitoring: true, paused: false, monitoringSince: T0 + 29 * MINUTE, roundMs: MINUTE };
    expect(portHistory(db, { proto: 'tcp', port: 8080, from: T0, to: T0 + 40 * MINUTE, buckets: 4 }, live).gaps[0]!.reason).toBe('stopped');
  });

  it('answers for a port never seen with empty lists', () => {
    seedRounds(db, minutes(3), () => [socket('tcp', 22, 'sshd')], form);
    const h = portHistory(db, { proto: 'udp', port: 22, from: T0, to: T0 + 3 * MINUTE, buckets: 3 });
    expect(h).toMatchObject({ firstSeenAt: null, lastSeenAt: null, occupied: [], owners: [], rounds: 0, captureRounds: 0, gaps: [] });
    expect(h.traffic.map((t) => t.flows)).toEqual([0, 0, 0]);
  });

  it("reads the port's rounds and flows through their indexes", () => {
    const rounds = planOf(db, "SELECT id, started_at FROM rounds WHERE started_at >= 1 AND started_at < 2 AND status = 'ok' ORDER BY started_at, id");
    expect(rounds).toMatch(/SEARCH rounds USING INDEX rounds_started_at/);
    const sockets = planOf(db, 'SELECT rp.round_id, pr.name FROM round_sockets rp LEFT JOIN processes pr ON pr.id = rp.process_id WHERE rp.port_id = 1 AND rp.round_id BETWEEN 1 AND 9');
    expect(sockets).toMatch(/SEARCH rounds_ports USING INDEX rounds_ports_port_round \(port_id=\? AND round_id>\? AND round_id<\?\)/);
    expect(sockets).toMatch(/SEARCH u USING INDEX rounds_ports_runs_port \(port_id=\?/);
    expect(sockets).not.toMatch(/SCAN (rounds_ports|u|r)\b/);
    const flows = planOf(db, 'SELECT sum(bytes) FROM flows WHERE port_id = 1 AND first_ts >= 1 AND first_ts < 2');
    expect(flows).toMatch(/SEARCH flows USING INDEX flows_port_ts/);
  });
});
