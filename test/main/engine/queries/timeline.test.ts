import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { RoundStore } from '../../../../src/main/engine/store/rounds';
import { BOUNDS_SQL, BUCKETS_SQL, HELD_SQL, PROCESSES_SQL, portTimeline } from '../../../../src/main/engine/queries/timeline';
import { TimelineSchema } from '../../../../src/shared/contract';
import { openTestDb } from '../../../support/db';
import { HISTORY_FORMS, MINUTE, minutes, planOf, seedRounds, socket, T0, type HistoryForm } from './seed';

let db: Db;
beforeEach(() => {
  db = openTestDb().db;
});
afterEach(() => db.close());

/**
 * 40 one-minute rounds in four buckets of ten: sshd holds 22 always (on IPv4 and IPv6, which
 * must count once); 8080 is held in rounds 0..14 by python, then 30..39 by node; udp 53 only in
 * round 25.
 */
function seedFour(form: HistoryForm): number[] {
  return seedRounds(db, minutes(40), (i) => [
    socket('tcp', 22, 'sshd', 10, 4),
    socket('tcp', 22, 'sshd', 10, 6),
    ...(i < 15 ? [socket('tcp', 8080, 'python', 20)] : i >= 30 ? [socket('tcp', 8080, 'node', 30)] : []),
    ...(i === 25 ? [socket('udp', 53, 'dnsmasq', 40)] : []),
  ], form);
}

describe.each(HISTORY_FORMS)('portTimeline (history kept as %s)', (form) => {
  it('gives per bucket the share of rounds each port was occupied, with its programs', () => {
    seedFour(form);
    const t = portTimeline(db, { from: T0, to: T0 + 40 * MINUTE, buckets: 4 });
    expect(TimelineSchema.parse(t)).toEqual(t);
    expect(t).toMatchObject({ from: T0, to: T0 + 40 * MINUTE, bucketMs: 10 * MINUTE, rounds: [10, 10, 10, 10], truncated: false });
    expect(t.ports).toEqual([
      { proto: 'tcp', port: 22, processes: ['sshd'], owners: [{ process: 'sshd', pid: 10 }], firstSeenAt: T0, occupancy: [1, 1, 1, 1] },
      {
        proto: 'tcp',
        port: 8080,
        processes: ['node', 'python'],
        owners: [
          { process: 'node', pid: 30 },
          { process: 'python', pid: 20 },
        ],
        firstSeenAt: T0,
        occupancy: [1, 0.5, 0, 1],
      },
      { proto: 'udp', port: 53, processes: ['dnsmasq'], owners: [{ process: 'dnsmasq', pid: 40 }], firstSeenAt: T0 + 25 * MINUTE, occupancy: [0, 0, 0.1, 0] },
    ]);
    // Forty rounds a minute apart, from the start of the range to its end: no gap.
    expect(t.gaps).toEqual([]);
  });

  it('counts only the asked range, leaves gaps as zero rounds and ports outside it out', () => {
    seedFour(form);
    const t = portTimeline(db, { from: T0 + 5 * MINUTE, to: T0 + 65 * MINUTE, buckets: 3 });
    expect(t.bucketMs).toBe(20 * MINUTE);
    expect(t.rounds).toEqual([20, 15, 0]);
    expect(t.ports.map((p) => [p.port, p.occupancy])).toEqual([
      [22, [1, 1, 0]],
      [8080, [0.5, 10 / 15, 0]],
      [53, [0, 1 / 15, 0]],
    ]);
    const before = portTimeline(db, { from: T0 - 60 * MINUTE, to: T0, buckets: 10 });
    expect(before).toMatchObject({ ports: [], truncated: false, rounds: new Array(10).fill(0) });
  });

  it('keeps the most occupied ports when there are more than maxPorts', () => {
    seedFour(form);
    const t = portTimeline(db, { from: T0, to: T0 + 40 * MINUTE, buckets: 4, maxPorts: 2 });
    expect(t.truncated).toBe(true);
    expect(t.ports.map((p) => p.port)).toEqual([22, 8080]);
  });

  it('gives the same answer when the clock went back and round ids no longer follow time', () => {
    seedFour(form);
    const expected = portTimeline(db, { from: T0, to: T0 + 40 * MINUTE, buckets: 4 });
    // A round recorded last but stamped in the middle (the clock was set back), and a failed one.
    const store = new RoundStore(db);
    store.record({ host: 'test', startedAt: T0 + 12 * MINUTE + 30_000, endedAt: T0 + 12 * MINUTE + 30_020, outcome: { sockets: [socket('tcp', 22, 'sshd')], connections: [] } });
    store.record({ host: 'test', startedAt: T0 + 33 * MINUTE + 30_000, endedAt: T0 + 33 * MINUTE + 30_020, outcome: { error: 'scan failed' } });
    const t = portTimeline(db, { from: T0, to: T0 + 40 * MINUTE, buckets: 4 });
    expect(t.rounds).toEqual([10, 11, 10, 10]);
    // The late round's sshd had another pid (100): it is one more owner.
    expect(t.ports[0]).toEqual({ ...expected.ports[0], owners: [...expected.ports[0]!.owners, { process: 'sshd', pid: 100 }], occupancy: [1, 1, 1, 1] });
    // The failed round between two good ones is a stretch not recorded, with its error.
    expect(t.gaps).toEqual([{ from: T0 + 33 * MINUTE + 30_000, to: T0 + 34 * MINUTE, reason: 'failed', detail: '1 round failed: scan failed' }]);
    expect(t.ports[1]!.occupancy).toEqual([1, 5 / 11, 0, 1]);
  });
});

describe('portTimeline queries', () => {
  it('reads the stretches a port was held and their owners over index ranges', () => {
    const buckets = planOf(db, BUCKETS_SQL, { from: 0, to: 1, bucketMs: 1 });
    expect(buckets).toMatch(/SEARCH rounds USING INDEX rounds_started_at/);
    const short = planOf(db, BOUNDS_SQL.short, { lo: 1, hi: 2, limit: 1, offset: 0 });
    expect(short).toMatch(/SEARCH rounds_ports_runs USING COVERING INDEX rounds_ports_runs_last \(last_round_id>\?\)/);
    expect(short).toMatch(/SEARCH rounds_ports USING (COVERING )?INDEX rounds_ports_round \(round_id>\? AND round_id<\?\)/);
    // A long span reads every run in port order: no sort of the runs, only of the ports.
    const long = planOf(db, BOUNDS_SQL.long, { lo: 1, hi: 2, limit: 1, offset: 0 });
    expect(long).toMatch(/SCAN rounds_ports_runs USING COVERING INDEX rounds_ports_runs_port/);
    expect(long).not.toMatch(/SCAN rounds_ports\b/);
    const held = planOf(db, HELD_SQL, { lo: 1, hi: 2, ports: '[1]' });
    expect(held).toMatch(/SEARCH rounds_ports_runs USING COVERING INDEX rounds_ports_runs_port \(port_id=\? AND first_round_id<\?\)/);
    expect(held).toMatch(/SEARCH rounds_ports USING COVERING INDEX rounds_ports_port_round \(port_id=\? AND round_id>\? AND round_id<\?\)/);
    expect(held).not.toMatch(/TEMP B-TREE|SCAN rounds_ports/);
    const processes = planOf(db, PROCESSES_SQL, { lo: 1, hi: 2, ports: '[1]' });
    expect(processes).toMatch(/SEARCH rounds_ports_runs USING COVERING INDEX rounds_ports_runs_port \(port_id=\? AND first_round_id<\?\)/);
    expect(processes).toMatch(/SEARCH rounds_ports USING INDEX rounds_ports_port_round \(port_id=\? AND round_id>\? AND round_id<\?\)/);
  });
});
