import type { Db } from '../store/database';
import type { MethodArgs, Timeline } from '../../../shared/contract';
import { recordingGaps, type LiveMonitor } from './gaps';

export type TimelineArgs = MethodArgs<'portTimeline'>[0];

/** Rows returned when the caller does not bound them: the most the contract allows. */
export const DEFAULT_MAX_PORTS = 2000;

interface BucketRange {
  b: number;
  /** Smallest and largest round id in the bucket, and how many rounds (of any status) it holds. */
  lo: number;
  hi: number;
  total: number;
  ok: number;
}

interface Cell {
  portId: number;
  b: number;
  n: number;
}

/** Held from round id `a` to `b`, both included. */
type Interval = [a: number, b: number];

// Bound parameters arrive as doubles; the casts keep the bucket number an integer division.
const BUCKET = '(started_at - CAST(@from AS INTEGER)) / CAST(@bucketMs AS INTEGER)';

export const BUCKETS_SQL = `SELECT ${BUCKET} AS b, min(id) AS lo, max(id) AS hi, count(*) AS total, sum(status = 'ok') AS ok
  FROM rounds WHERE started_at >= @from AND started_at < @to GROUP BY b ORDER BY b`;

/**
 * Every stretch of round ids in [@lo, @hi] in which a socket held a port: the runs of older
 * history (migration 012) and the newest hour's rows, each a stretch of one round. Both halves
 * are read from an index alone (rounds_ports_runs_last, rounds_ports_port_round). Valid when
 * round ids follow time, so each bucket is one id range (see idsFollowTime).
 */
export const HELD_SQL = `SELECT port_id, first_round_id, last_round_id FROM rounds_ports_runs WHERE last_round_id >= @lo AND first_round_id <= @hi
  UNION ALL
  SELECT port_id, round_id, round_id FROM rounds_ports WHERE round_id BETWEEN @lo AND @hi`;

/**
 * The counts by joining on time, for when ids do not follow time (a clock set back); the id
 * span bounds the view's rows, the times pick the rounds.
 */
const CELLS_BY_TIME_SQL = `SELECT rp.port_id AS portId, (r.started_at - CAST(@from AS INTEGER)) / CAST(@bucketMs AS INTEGER) AS b, count(DISTINCT rp.round_id) AS n
  FROM round_sockets rp JOIN rounds r ON r.id = rp.round_id
  WHERE rp.round_id BETWEEN @lo AND @hi AND r.started_at >= @from AND r.started_at < @to AND r.status = 'ok'
  GROUP BY rp.port_id, b`;

export const PROCESSES_SQL = `SELECT DISTINCT s.port_id AS portId, pr.name AS name, s.pid AS pid
  FROM (SELECT port_id, pid, process_id FROM rounds_ports_runs WHERE last_round_id >= @lo AND first_round_id <= @hi
        UNION ALL SELECT port_id, pid, process_id FROM rounds_ports WHERE round_id BETWEEN @lo AND @hi) s
  JOIN processes pr ON pr.id = s.process_id
  WHERE pr.name IS NOT NULL`;

const PROCESSES_BY_TIME_SQL = `SELECT DISTINCT rp.port_id AS portId, pr.name AS name, rp.pid AS pid
  FROM round_sockets rp JOIN rounds r ON r.id = rp.round_id JOIN processes pr ON pr.id = rp.process_id
  WHERE rp.round_id BETWEEN @lo AND @hi AND r.started_at >= @from AND r.started_at < @to AND pr.name IS NOT NULL`;

/**
 * Rounds per (port, bucket) from the stretches a port was held: a port's stretches (one per
 * socket: IPv4 and IPv6, several owners) are merged first, so a round counts once, then each
 * merged stretch is cut at the buckets' id ranges. Every id inside a stretch is a round that
 * held the port (runs only join consecutive ids), so a count is a length.
 */
function cellsById(db: Db, ranges: readonly BucketRange[], lo: number, hi: number): Cell[] {
  const byPort = new Map<number, Interval[]>();
  for (const [portId, a, b] of db.prepare(HELD_SQL).raw().iterate({ lo, hi }) as Iterable<[number, number, number]>) {
    let list = byPort.get(portId);
    if (!list) byPort.set(portId, (list = []));
    list.push([Math.max(a, lo), Math.min(b, hi)]);
  }
  const cells: Cell[] = [];
  const counts = new Map<number, number>();
  for (const [portId, list] of byPort) {
    list.sort((x, y) => x[0] - y[0]);
    counts.clear();
    let [a, b] = list[0]!;
    const cut = (a: number, b: number) => {
      // The first bucket that ends at or after a (ranges ascend, one id range each).
      let l = 0;
      let h = ranges.length - 1;
      while (l < h) {
        const m = (l + h) >> 1;
        if (ranges[m]!.hi < a) l = m + 1;
        else h = m;
      }
      for (let k = l; k < ranges.length && ranges[k]!.lo <= b; k++) {
        const n = Math.min(b, ranges[k]!.hi) - Math.max(a, ranges[k]!.lo) + 1;
        if (n > 0) counts.set(ranges[k]!.b, (counts.get(ranges[k]!.b) ?? 0) + n);
      }
    };
    for (let i = 1; i < list.length; i++) {
      const [c, d] = list[i]!;
      if (c <= b + 1) b = Math.max(b, d);
      else {
        cut(a, b);
        [a, b] = [c, d];
      }
    }
    cut(a, b);
    for (const [bucket, n] of counts) cells.push({ portId, b: bucket, n });
  }
  return cells;
}

/**
 * Rounds are written as they happen, so ids normally rise with time; a clock set back breaks
 * that. The id ranges stand for the buckets only when they do not overlap and every round in
 * the overall id span lies in the asked range.
 */
function idsFollowTime(db: Db, ranges: readonly BucketRange[]): boolean {
  for (let i = 1; i < ranges.length; i++) if (ranges[i]!.lo <= ranges[i - 1]!.hi) return false;
  const inRange = ranges.reduce((n, r) => n + r.total, 0);
  const inSpan = db.prepare<[number, number], number>('SELECT count(*) FROM rounds WHERE id BETWEEN ? AND ?').pluck().get(ranges[0]!.lo, ranges.at(-1)!.hi);
  return inSpan === inRange;
}

/** Owners listed per port: enough to name who held it, not a list of every restart. */
export const MAX_OWNERS = 8;

/**
 * The timeline of every port occupied in [from, to): per bucket, the share of that bucket's
 * rounds in which the port was occupied, and where Portent was not recording. The stretches a
 * port was held are read from indexes alone and counted per bucket in one pass, so thirty days
 * of one-minute rounds answer in a fraction of a second (bench/timeline.ts, bench/storage.ts). `live` tells why the newest gap is there (paused, stopped).
 */
export function portTimeline(db: Db, args: TimelineArgs, live: LiveMonitor | null = null): Timeline {
  const { from, to } = args;
  const bucketMs = Math.max(1, Math.ceil((to - from) / args.buckets));
  const count = Math.ceil((to - from) / bucketMs);
  const maxPorts = args.maxPorts ?? DEFAULT_MAX_PORTS;
  const ranges = db.prepare(BUCKETS_SQL).all({ from, to, bucketMs }) as BucketRange[];
  const rounds = new Array<number>(count).fill(0);
  for (const r of ranges) rounds[r.b] = r.ok;
  const gaps = recordingGaps(db, from, to, live);
  if (ranges.length === 0) return { from, to, bucketMs, rounds, ports: [], truncated: false, gaps };

  const lo = ranges[0]!.lo;
  const hi = ranges.at(-1)!.hi;
  const byId = idsFollowTime(db, ranges);
  const cells = byId ? cellsById(db, ranges, lo, hi) : (db.prepare(CELLS_BY_TIME_SQL).all({ from, to, bucketMs, lo, hi }) as Cell[]);

  const perPort = new Map<number, { occupancy: number[]; total: number }>();
  for (const c of cells) {
    if (c.n === 0 || rounds[c.b] === 0) continue;
    let p = perPort.get(c.portId);
    if (!p) perPort.set(c.portId, (p = { occupancy: new Array<number>(count).fill(0), total: 0 }));
    p.occupancy[c.b] = Math.min(1, c.n / rounds[c.b]!);
    p.total += c.n;
  }
  // The most occupied ports are kept when there are more than asked for.
  const kept = [...perPort.entries()].sort((a, b) => b[1].total - a[1].total || a[0] - b[0]).slice(0, maxPorts);
  const keptIds = new Set(kept.map(([id]) => id));

  const names = new Map<number, Set<string>>();
  const owners = new Map<number, Map<string, { process: string; pid: number | null }>>();
  const processRows = (byId ? db.prepare(PROCESSES_SQL).all({ lo, hi }) : db.prepare(PROCESSES_BY_TIME_SQL).all({ from, to, lo, hi })) as { portId: number; name: string; pid: number | null }[];
  for (const r of processRows) {
    if (!keptIds.has(r.portId)) continue;
    let set = names.get(r.portId);
    if (!set) names.set(r.portId, (set = new Set()));
    set.add(r.name);
    let list = owners.get(r.portId);
    if (!list) owners.set(r.portId, (list = new Map()));
    list.set(`${r.name}\0${r.pid}`, { process: r.name, pid: r.pid });
  }
  const ownersOf = (id: number) =>
    [...(owners.get(id)?.values() ?? [])].sort((a, b) => a.process.localeCompare(b.process) || (a.pid ?? -1) - (b.pid ?? -1)).slice(0, MAX_OWNERS);

  const identity = db.prepare<[string], { id: number; proto: 'tcp' | 'udp'; port: number; firstSeenAt: number }>(
    'SELECT id, proto, port, first_seen_at AS firstSeenAt FROM ports WHERE id IN (SELECT value FROM json_each(?))',
  );
  const ports = identity
    .all(JSON.stringify([...keptIds]))
    .map((p) => ({
      proto: p.proto,
      port: p.port,
      processes: [...(names.get(p.id) ?? [])].sort(),
      owners: ownersOf(p.id),
      firstSeenAt: p.firstSeenAt,
      occupancy: perPort.get(p.id)!.occupancy,
    }))
    .sort((a, b) => a.proto.localeCompare(b.proto) || a.port - b.port);
  return { from, to, bucketMs, rounds, ports, truncated: perPort.size > kept.length, gaps };
}
