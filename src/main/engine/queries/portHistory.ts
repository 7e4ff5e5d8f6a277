import type { Db } from '../store/database';
import type { MethodArgs, PortHistory } from '../../../shared/contract';
import { GAP_FACTOR, recordingGaps, type LiveMonitor } from './gaps';

export { GAP_FACTOR } from './gaps';

export type PortHistoryArgs = MethodArgs<'portHistory'>[0];

type Owner = PortHistory['owners'][number];
type OwnerRow = Omit<Owner, 'from' | 'to'> & { roundId: number };

/** Median time between consecutive rounds; the usual round length. */
function medianStep(times: readonly number[]): number {
  const steps: number[] = [];
  for (let i = 1; i < times.length; i++) steps.push(times[i]! - times[i - 1]!);
  if (steps.length === 0) return 0;
  steps.sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)]!;
}

/**
 * Merges what holds in consecutive rounds into intervals. `keysAt(i)` names what holds in round
 * i; a run of a key ends at a round without it or at a gap in the rounds themselves. Each
 * interval runs from the start of its first round to the start of its last.
 */
export function mergeRuns<K>(times: readonly number[], keysAt: (i: number) => Iterable<K>): { key: K; from: number; to: number }[] {
  const maxGap = GAP_FACTOR * medianStep(times);
  const open = new Map<K, { key: K; from: number; to: number; last: number }>();
  const done: { key: K; from: number; to: number }[] = [];
  for (let i = 0; i < times.length; i++) {
    const continues = i > 0 && (maxGap === 0 || times[i]! - times[i - 1]! <= maxGap);
    const here = new Set(keysAt(i));
    for (const [key, run] of open) {
      if (!here.has(key) || !continues || run.last !== i - 1) {
        done.push({ key, from: run.from, to: run.to });
        open.delete(key);
      }
    }
    for (const key of here) {
      const run = open.get(key);
      if (run) {
        run.to = times[i]!;
        run.last = i;
      } else open.set(key, { key, from: times[i]!, to: times[i]!, last: i });
    }
  }
  for (const run of open.values()) done.push({ key: run.key, from: run.from, to: run.to });
  return done.sort((a, b) => a.from - b.from || a.to - b.to);
}

/**
 * One port's story in [from, to): when it was occupied, by whom, and its traffic per bucket. A
 * port never seen gives empty lists rather than an error, so a view can ask before it exists.
 */
export function portHistory(db: Db, args: PortHistoryArgs, live: LiveMonitor | null = null): PortHistory {
  const { proto, port, from, to } = args;
  const bucketMs = Math.max(1, Math.ceil((to - from) / args.buckets));
  const count = Math.ceil((to - from) / bucketMs);
  const empty = (): PortHistory['traffic'] => Array.from({ length: count }, (_, b) => ({ at: from + b * bucketMs, packets: 0, bytes: 0, flows: 0 }));
  const known = db
    .prepare<[string, number], { id: number; firstSeenAt: number; lastSeenAt: number }>('SELECT id, first_seen_at AS firstSeenAt, last_seen_at AS lastSeenAt FROM ports WHERE proto = ? AND port = ?')
    .get(proto, port);
  const gaps = recordingGaps(db, from, to, live);
  if (!known) return { proto, port, firstSeenAt: null, lastSeenAt: null, occupied: [], owners: [], traffic: empty(), rounds: 0, captureRounds: 0, gaps };

  const rounds = db
    .prepare<[number, number], { id: number; at: number }>(`SELECT id, started_at AS at FROM rounds WHERE started_at >= ? AND started_at < ? AND status = 'ok' ORDER BY started_at, id`)
    .all(from, to);
  const owners = new Map<number, OwnerRow[]>();
  let captureRounds = 0;
  if (rounds.length > 0) {
    // An id span rather than a join on time keeps this one index range of each half of the view
    // (rounds_ports_port_round, rounds_ports_runs_port); rows of rounds outside the asked range
    // (if ids ever run against time) are dropped below.
    const lo = rounds.reduce((m, r) => Math.min(m, r.id), Infinity);
    const hi = rounds.reduce((m, r) => Math.max(m, r.id), -Infinity);
    const inRange = new Set(rounds.map((r) => r.id));
    const captured = db.prepare<[number, number], number>("SELECT round_id FROM round_capture WHERE round_id BETWEEN ? AND ? AND state = 'on'").pluck().all(lo, hi);
    captureRounds = captured.filter((id) => inRange.has(id)).length;
    const rows = db
      .prepare<[number, number, number], OwnerRow>(
        `SELECT rp.round_id AS roundId, pr.name AS process, pr.exe, pr.user, rp.pid
         FROM round_sockets rp LEFT JOIN processes pr ON pr.id = rp.process_id
         WHERE rp.port_id = ? AND rp.round_id BETWEEN ? AND ?`,
      )
      .all(known.id, lo, hi);
    for (const r of rows) {
      const list = owners.get(r.roundId) ?? [];
      list.push(r);
      owners.set(r.roundId, list);
    }
  }
  const times = rounds.map((r) => r.at);
  const occupied = mergeRuns(times, (i) => (owners.has(rounds[i]!.id) ? ['occupied'] : [])).map(({ from, to }) => ({ from, to }));
  // Owners are keyed by their JSON so the same program and pid in two rounds is one key.
  const ownerRuns = mergeRuns(times, (i) => (owners.get(rounds[i]!.id) ?? []).map(({ process, exe, user, pid }) => JSON.stringify([process, exe, user, pid])));
  const ownerList = ownerRuns.map(({ key, from, to }) => {
    const [process, exe, user, pid] = JSON.parse(key) as [string | null, string | null, string | null, number | null];
    return { process, exe, user, pid, from, to };
  });

  const traffic = empty();
  const perBucket = db
    .prepare<{ port: number; from: number; to: number; bucketMs: number }, { b: number; packets: number; bytes: number; flows: number }>(
      `SELECT (first_ts - CAST(@from AS INTEGER)) / CAST(@bucketMs AS INTEGER) AS b, sum(packets) AS packets, sum(bytes) AS bytes, count(*) AS flows
       FROM flows WHERE port_id = @port AND first_ts >= @from AND first_ts < @to GROUP BY b`,
    )
    .all({ port: known.id, from, to, bucketMs });
  for (const t of perBucket) traffic[t.b] = { at: from + t.b * bucketMs, packets: t.packets, bytes: t.bytes, flows: t.flows };
  return { proto, port, firstSeenAt: known.firstSeenAt, lastSeenAt: known.lastSeenAt, occupied, owners: ownerList, traffic, rounds: rounds.length, captureRounds, gaps };
}
