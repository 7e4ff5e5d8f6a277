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
 * Per port held in [@lo, @hi], the rounds its sockets held it, counted per socket: the runs of
 * older history (migration 012), then the newest hour's rows. Exact for a port held by one
 * socket at a time, an upper bound otherwise (IPv4 and IPv6 twins count twice). Summed in SQL
 * from indexes alone, so the tens of thousands of ports a month of kernel-numbered sockets
 * leaves never reach JavaScript one stretch at a time. Over a week or more nearly every run is
 * in range, and reading them in port order (rounds_ports_runs_port) spares sorting them; a
 * shorter span reads its range of rounds_ports_runs_last. The planner, without statistics,
 * cannot tell the two apart, so the index is named.
 */
const boundsSql = (long: boolean) => `SELECT port_id, sum(n) AS n, count(*) OVER () AS held FROM (
    SELECT port_id, sum(min(last_round_id, @hi) - max(first_round_id, @lo) + 1) AS n
    FROM rounds_ports_runs INDEXED BY ${long ? 'rounds_ports_runs_port' : 'rounds_ports_runs_last'}
    WHERE last_round_id >= @lo AND first_round_id <= @hi GROUP BY port_id
    UNION ALL
    SELECT port_id, count(*) FROM rounds_ports WHERE round_id BETWEEN @lo AND @hi GROUP BY port_id)
  GROUP BY port_id ORDER BY n DESC, port_id LIMIT @limit OFFSET @offset`;
export const BOUNDS_SQL = { short: boundsSql(false), long: boundsSql(true) };
const LONG_SPAN_ROUNDS = 7 * 1440;

/**
 * Every stretch of round ids in [@lo, @hi] in which a socket held one of the ports @ports (a JSON
 * array of ids): the runs of older history and the newest hour's rows, each a stretch of one
 * round, read from indexes (rounds_ports_runs_port, rounds_ports_port_round). Valid when round
 * ids follow time, so each bucket is one id range (see idsFollowTime).
 */
export const HELD_SQL = `SELECT port_id, first_round_id, last_round_id FROM rounds_ports_runs
    WHERE port_id IN (SELECT value FROM json_each(@ports)) AND first_round_id <= @hi AND last_round_id >= @lo
  UNION ALL
  SELECT port_id, round_id, round_id FROM rounds_ports WHERE port_id IN (SELECT value FROM json_each(@ports)) AND round_id BETWEEN @lo AND @hi`;

/**
 * The counts by joining on time, for when ids do not follow time (a clock set back); the id
 * span bounds the view's rows, the times pick the rounds.
 */
const CELLS_BY_TIME_SQL = `SELECT rp.port_id AS portId, (r.started_at - CAST(@from AS INTEGER)) / CAST(@bucketMs AS INTEGER) AS b, count(DISTINCT rp.round_id) AS n
  FROM round_sockets rp JOIN rounds r ON r.id = rp.round_id
  WHERE rp.round_id BETWEEN @lo AND @hi AND r.started_at >= @from AND r.started_at < @to AND r.status = 'ok'
  GROUP BY rp.port_id, b`;

/** Who held the ports kept (@ports, a JSON array of ids) in [@lo, @hi], from indexes alone. */
export const PROCESSES_SQL = `SELECT DISTINCT s.port_id AS portId, pr.name AS name, s.pid AS pid
  FROM (SELECT port_id, pid, process_id FROM rounds_ports_runs
        WHERE port_id IN (SELECT value FROM json_each(@ports)) AND first_round_id <= @hi AND last_round_id >= @lo
        UNION ALL
        SELECT port_id, pid, process_id FROM rounds_ports WHERE port_id IN (SELECT value FROM json_each(@ports)) AND round_id BETWEEN @lo AND @hi) s
  JOIN processes pr ON pr.id = s.process_id
  WHERE pr.name IS NOT NULL`;

const PROCESSES_BY_TIME_SQL = `SELECT DISTINCT rp.port_id AS portId, pr.name AS name, rp.pid AS pid
  FROM round_sockets rp JOIN rounds r ON r.id = rp.round_id JOIN processes pr ON pr.id = rp.process_id
  WHERE rp.round_id BETWEEN @lo AND @hi AND rp.port_id IN (SELECT value FROM json_each(@ports))
    AND r.started_at >= @from AND r.started_at < @to AND pr.name IS NOT NULL`;

/**
 * Adds the rounds of the stretch [a, b] to `counts` (indexed like `ranges`, which ascend, one id
 * range each); `touched` collects the indexes counted into.
 */
function countStretch(ranges: readonly BucketRange[], a: number, b: number, counts: Float64Array, touched: number[]): void {
  // The first bucket that ends at or after a.
  let l = 0;
  let h = ranges.length - 1;
  while (l < h) {
    const m = (l + h) >> 1;
    if (ranges[m]!.hi < a) l = m + 1;
    else h = m;
  }
  for (let k = l; k < ranges.length && ranges[k]!.lo <= b; k++) {
    const n = Math.min(b, ranges[k]!.hi) - Math.max(a, ranges[k]!.lo) + 1;
    if (n <= 0) continue;
    if (counts[k] === 0) touched.push(k);
    counts[k] = counts[k]! + n;
  }
}

/**
 * Rounds per (port, bucket) from the stretches a port was held: a port's stretches (one per
 * socket: IPv4 and IPv6, several owners) are merged first, so a round counts once, then each
 * merged stretch is cut at the buckets' id ranges. Every id inside a stretch is a round that
 * held the port (runs only join consecutive ids), so a count is a length.
 */
function cellsById(db: Db, ranges: readonly BucketRange[], lo: number, hi: number, portIds: readonly number[]): Cell[] {
  const byPort = new Map<number, Interval[]>();
  for (const [portId, a, b] of db.prepare(HELD_SQL).raw().iterate({ lo, hi, ports: JSON.stringify(portIds) }) as Iterable<[number, number, number]>) {
    let list = byPort.get(portId);
    if (!list) byPort.set(portId, (list = []));
    list.push([Math.max(a, lo), Math.min(b, hi)]);
  }
  const cells: Cell[] = [];
  const counts = new Float64Array(ranges.length);
  const touched: number[] = [];
  for (const [portId, list] of byPort) {
    if (list.length > 1) list.sort((x, y) => x[0] - y[0]);
    let [a, b] = list[0]!;
    for (let i = 1; i < list.length; i++) {
      const [c, d] = list[i]!;
      if (c <= b + 1) b = Math.max(b, d);
      else {
        countStretch(ranges, a, b, counts, touched);
        [a, b] = [c, d];
      }
    }
    countStretch(ranges, a, b, counts, touched);
    for (const k of touched) {
      cells.push({ portId, b: ranges[k]!.b, n: counts[k]! });
      counts[k] = 0;
    }
    touched.length = 0;
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

/** Most rounds first, then the lower port id: the order ports are kept in. */
const byTotal = (a: readonly [number, number], b: readonly [number, number]) => b[1] - a[1] || a[0] - b[0];

/**
 * The cells of the `maxPorts` most held ports (and perhaps a few more), and how many ports were
 * held at all. Ports are taken in the order of their upper bound (BOUNDS_SQL) and counted
 * exactly a batch at a time, until no port left can outrank the last one kept: its bound is
 * below that port's exact count (or equal, with a higher id). Ports held by one socket at a time
 * have bounds that are exact, so one batch is the rule.
 */
function cellsOfMostHeld(db: Db, ranges: readonly BucketRange[], lo: number, hi: number, maxPorts: number): { cells: Cell[]; held: number } {
  // The sort happens in SQL, so only a batch (and the port after it) reaches JavaScript.
  const boundsOf = db.prepare(hi - lo >= LONG_SPAN_ROUNDS ? BOUNDS_SQL.long : BOUNDS_SQL.short).raw();
  const batch = maxPorts + 64;
  const cells: Cell[] = [];
  const exact = new Map<number, number>();
  let held = 0;
  for (let offset = 0; ; offset += batch) {
    const bounds = boundsOf.all({ lo, hi, limit: batch + 1, offset }) as [number, number, number][];
    if (bounds.length === 0) break;
    held = bounds[0]![2];
    for (const c of cellsById(db, ranges, lo, hi, bounds.slice(0, batch).map(([id]) => id))) {
      cells.push(c);
      exact.set(c.portId, (exact.get(c.portId) ?? 0) + c.n);
    }
    const after = bounds[batch];
    if (!after) break;
    if (exact.size < maxPorts) continue;
    const [lastId, lastTotal] = [...exact].sort(byTotal)[maxPorts - 1]!;
    if (after[1] < lastTotal || (after[1] === lastTotal && after[0] > lastId)) break;
  }
  return { cells, held };
}

function cellsByTime(db: Db, p: { from: number; to: number; bucketMs: number; lo: number; hi: number }): { cells: Cell[]; held: number } {
  const cells = db.prepare(CELLS_BY_TIME_SQL).all(p) as Cell[];
  return { cells, held: new Set(cells.map((c) => c.portId)).size };
}

/** Owners listed per port: enough to name who held it, not a list of every restart. */
export const MAX_OWNERS = 8;

/**
 * The timeline of every port occupied in [from, to): per bucket, the share of that bucket's
 * rounds in which the port was occupied, and where Portent was not recording. The stretches a
 * port was held are read from indexes alone and counted per bucket in one pass, so thirty days
 * of one-minute rounds answer in a fraction of a second (bench/timeline.ts, bench/storage.ts).
 * `live` tells why the newest gap is there (paused, stopped).
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
  const { cells, held } = byId ? cellsOfMostHeld(db, ranges, lo, hi, maxPorts) : cellsByTime(db, { from, to, bucketMs, lo, hi });

  const totals = new Map<number, number>();
  for (const c of cells) {
    if (c.n === 0 || rounds[c.b] === 0) continue;
    totals.set(c.portId, (totals.get(c.portId) ?? 0) + c.n);
  }
  // The most occupied ports are kept when there are more than asked for; only theirs are drawn.
  const kept = [...totals.entries()].sort(byTotal).slice(0, maxPorts);
  const keptIds = new Set(kept.map(([id]) => id));
  const occupancy = new Map<number, number[]>();
  for (const c of cells) {
    if (c.n === 0 || rounds[c.b] === 0 || !keptIds.has(c.portId)) continue;
    let o = occupancy.get(c.portId);
    if (!o) occupancy.set(c.portId, (o = new Array<number>(count).fill(0)));
    o[c.b] = Math.min(1, c.n / rounds[c.b]!);
  }

  const names = new Map<number, Set<string>>();
  const owners = new Map<number, Map<string, { process: string; pid: number | null }>>();
  const keptJson = JSON.stringify([...keptIds]);
  const processRows = (byId ? db.prepare(PROCESSES_SQL).all({ lo, hi, ports: keptJson }) : db.prepare(PROCESSES_BY_TIME_SQL).all({ from, to, lo, hi, ports: keptJson })) as {
    portId: number;
    name: string;
    pid: number | null;
  }[];
  for (const r of processRows) {
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
    .all(keptJson)
    .map((p) => ({
      proto: p.proto,
      port: p.port,
      processes: [...(names.get(p.id) ?? [])].sort(),
      owners: ownersOf(p.id),
      firstSeenAt: p.firstSeenAt,
      occupancy: occupancy.get(p.id)!,
    }))
    .sort((a, b) => a.proto.localeCompare(b.proto) || a.port - b.port);
  return { from, to, bucketMs, rounds, ports, truncated: held > kept.length, gaps };
}
