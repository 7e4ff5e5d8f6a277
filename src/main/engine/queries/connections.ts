import type { Db } from '../store/database';
import { plainAddress } from '../store/resolvedNames';
import { CONNECTION_STATES, type ConnectionState } from '../collect/sockets/types';
import type { ConnectionEndpoint, Connections, MethodArgs } from '../../../shared/contract';

export type ListConnectionsArgs = MethodArgs<'listConnections'>[0];

/** Endpoints returned when the caller does not bound them. */
export const DEFAULT_MAX_ENDPOINTS = 500;

/** The first and last round of the range: spans are stored by round ids, not by time. */
export const ROUND_RANGE_SQL = 'SELECT min(id) AS lo, max(id) AS hi FROM rounds WHERE started_at >= @from AND started_at < @to';

/**
 * Per (process, remote end, listener port) over the rounds lo..hi: the states seen, the most
 * sockets held at once, the first and last round's start, newest first. A span's rounds are cut
 * to the range; the most at once is a running sum over the spans' starts and ends, since spans
 * of other states or pids of the same process overlap. Owner and listener port are coalesced
 * (processes ids start at 1, ports at 0) so that unknown ones group and join like known ones.
 */
export const ENDPOINTS_SQL = `WITH
  s AS MATERIALIZED (
    SELECT coalesce(cs.process_id, 0) AS pk, cs.endpoint_id AS ek, coalesce(cs.local_port, -1) AS lk, cs.direction, cs.state, cs.count,
           max(cs.first_round_id, @lo) AS f, min(cs.last_round_id, @hi) AS l
    FROM connection_spans cs
    JOIN remote_endpoints e ON e.id = cs.endpoint_id
    LEFT JOIN processes p ON p.id = cs.process_id
    WHERE cs.last_round_id >= @lo AND cs.first_round_id <= @hi
      AND (@process IS NULL OR p.name = @process)
      AND (@host IS NULL OR instr(lower(e.address), @host) > 0 OR instr(lower(coalesce(e.name, '')), @host) > 0)),
  ev AS (SELECT pk, ek, lk, f AS at, count AS d FROM s UNION ALL SELECT pk, ek, lk, l + 1, -count FROM s),
  level AS (SELECT pk, ek, lk, sum(d) OVER (PARTITION BY pk, ek, lk ORDER BY at) AS n FROM ev),
  peak AS (SELECT pk, ek, lk, max(n) AS maxSockets FROM level GROUP BY pk, ek, lk),
  g AS (SELECT pk, ek, lk, min(direction) AS direction, min(f) AS f, max(l) AS l, json_group_array(DISTINCT state) AS states FROM s GROUP BY pk, ek, lk)
  SELECT g.pk, p.name AS process, p.exe, p.user, e.proto, e.address, e.port, g.direction, nullif(g.lk, -1) AS localPort, e.name, g.states,
         peak.maxSockets, r1.started_at AS firstSeenAt, r2.started_at AS lastSeenAt, e.first_seen_at >= @from AND e.first_seen_at < @to AS isNew
  FROM g
  JOIN peak ON peak.pk = g.pk AND peak.ek = g.ek AND peak.lk = g.lk
  JOIN remote_endpoints e ON e.id = g.ek
  JOIN rounds r1 ON r1.id = g.f
  JOIN rounds r2 ON r2.id = g.l
  LEFT JOIN processes p ON p.id = g.pk
  ORDER BY lastSeenAt DESC, firstSeenAt DESC, e.proto, e.address, e.port, g.lk, g.pk
  LIMIT @limit`;

/**
 * What capture counted for one owner with the addresses asked for (@addresses), per flow key.
 * The address test keeps the rows read to the owner's traffic with the endpoints shown.
 */
const TRAFFIC_SQL = (owner: string) => `SELECT f.proto, f.local_addr AS localAddr, f.local_port AS localPort, f.remote_addr AS remoteAddr, f.remote_port AS remotePort,
    f.direction, sum(f.bytes) AS bytes, sum(f.packets) AS packets
  FROM flows f
  WHERE ${owner} AND f.first_ts >= @from AND f.first_ts < @to AND f.direction <> 'transit'
    AND (f.remote_addr IN (SELECT value FROM json_each(@addresses)) OR (f.direction = 'local' AND f.local_addr IN (SELECT value FROM json_each(@addresses))))
  GROUP BY f.proto, f.local_addr, f.local_port, f.remote_addr, f.remote_port, f.direction`;

/** By the flows_process_ts index; unattributed traffic (no owner known) by time alone. */
export const TRAFFIC_OF_PROCESS_SQL = TRAFFIC_SQL('f.process_id = @processId');
const TRAFFIC_UNOWNED_SQL = TRAFFIC_SQL('f.process_id IS NULL');

interface FlowSum {
  proto: string;
  localAddr: string;
  localPort: number | null;
  remoteAddr: string;
  remotePort: number | null;
  direction: 'outbound' | 'inbound' | 'local';
  bytes: number;
  packets: number;
}

interface EndpointRow {
  pk: number;
  process: string | null;
  exe: string | null;
  user: string | null;
  proto: 'tcp' | 'udp';
  address: string;
  port: number;
  direction: 'out' | 'in';
  localPort: number | null;
  name: string | null;
  states: string;
  maxSockets: number;
  firstSeenAt: number;
  lastSeenAt: number;
  isNew: number;
}

type Traffic = NonNullable<ConnectionEndpoint['traffic']>;

/** A dual-stack socket shows an IPv4 peer as ::ffff:a.b.c.d; capture shows it as a.b.c.d. */
const capturedAddress = plainAddress;

const stateOrder = (a: ConnectionState, b: ConnectionState): number => CONNECTION_STATES.indexOf(a) - CONNECTION_STATES.indexOf(b);

/** How a flow row names an endpoint: by the peer's port when this machine opened it, by our listener's port when it accepted it. */
const endpointKey = (proto: string, address: string, direction: 'out' | 'in', port: number | null): string => `${proto}|${address}|${direction}|${port}`;

/**
 * Traffic per row index of `rows`, for the rows of one owner (pk 0: unknown). flows rows are one
 * direction each, seen from our side: outbound is sent, inbound received. A 'local' row (both
 * ends on this machine) is traffic sent by its local end: when that end is the endpoint itself,
 * the process received it.
 */
function trafficOf(db: Db, pk: number, rows: readonly EndpointRow[], indexes: readonly number[], from: number, to: number): Map<number, Traffic> {
  const wanted = new Map<string, number>();
  for (const i of indexes) {
    const r = rows[i]!;
    wanted.set(endpointKey(r.proto, capturedAddress(r.address), r.direction, r.direction === 'out' ? r.port : r.localPort), i);
  }
  const addresses = JSON.stringify([...new Set(indexes.map((i) => capturedAddress(rows[i]!.address)))]);
  const sums = db.prepare(pk === 0 ? TRAFFIC_UNOWNED_SQL : TRAFFIC_OF_PROCESS_SQL).all({ addresses, from, to, ...(pk === 0 ? {} : { processId: pk }) }) as FlowSum[];
  const traffic = new Map<number, Traffic>();
  const add = (key: string, received: boolean, f: FlowSum): void => {
    const i = wanted.get(key);
    if (i === undefined) return;
    let t = traffic.get(i);
    if (!t) traffic.set(i, (t = { bytesOut: 0, bytesIn: 0, packetsOut: 0, packetsIn: 0 }));
    if (received) {
      t.bytesIn += f.bytes;
      t.packetsIn += f.packets;
    } else {
      t.bytesOut += f.bytes;
      t.packetsOut += f.packets;
    }
  };
  for (const f of sums) {
    // The peer at the remote end: an endpoint opened to its port, or accepted on our local port.
    add(endpointKey(f.proto, f.remoteAddr, 'out', f.remotePort), f.direction === 'inbound', f);
    add(endpointKey(f.proto, f.remoteAddr, 'in', f.localPort), f.direction === 'inbound', f);
    if (f.direction === 'local') {
      add(endpointKey(f.proto, f.localAddr, 'out', f.localPort), true, f);
      add(endpointKey(f.proto, f.localAddr, 'in', f.remotePort), true, f);
    }
  }
  return traffic;
}

/**
 * Which processes talked with whom over [from, to): per process, its remote endpoints with the
 * states seen, the most sockets at once, first and last seen (round start times), whether the
 * machine first talked with the endpoint in the range, and what capture counted. Spans are
 * found by the rounds of the range as one id range (ids follow time unless the clock was set
 * back), through connection_spans_last, so a short range reads only the spans near it.
 */
export function listConnections(db: Db, args: ListConnectionsArgs): Connections {
  const { from, to } = args;
  const limit = args.limit ?? DEFAULT_MAX_ENDPOINTS;
  const range = db.prepare(ROUND_RANGE_SQL).get({ from, to }) as { lo: number | null; hi: number | null };
  if (range.lo === null || range.hi === null) return { from, to, processes: [], truncated: false };

  const rows = db.prepare(ENDPOINTS_SQL).all({
    from, to, lo: range.lo, hi: range.hi, limit: limit + 1,
    process: args.process ?? null,
    host: args.host === undefined ? null : args.host.toLowerCase(),
  }) as EndpointRow[];
  const truncated = rows.length > limit;
  if (truncated) rows.length = limit;

  const byOwner = new Map<number, number[]>();
  rows.forEach((r, i) => {
    const list = byOwner.get(r.pk);
    if (list) list.push(i);
    else byOwner.set(r.pk, [i]);
  });

  const processes: Connections['processes'] = [];
  for (const [pk, indexes] of byOwner) {
    const traffic = trafficOf(db, pk, rows, indexes, from, to);
    const first = rows[indexes[0]!]!;
    processes.push({
      process: first.process,
      exe: first.exe,
      user: first.user,
      endpoints: indexes.map((i) => {
        const r = rows[i]!;
        return {
          proto: r.proto,
          address: r.address,
          port: r.port,
          direction: r.direction,
          localPort: r.localPort,
          name: r.name,
          states: (JSON.parse(r.states) as ConnectionState[]).sort(stateOrder),
          maxSockets: r.maxSockets,
          firstSeenAt: r.firstSeenAt,
          lastSeenAt: r.lastSeenAt,
          isNew: r.isNew === 1,
          traffic: traffic.get(i) ?? null,
        };
      }),
    });
  }
  // Most endpoints first; then by name, an unknown owner after the known ones.
  const name = (p: Connections['processes'][number]) => [p.process, p.exe, p.user].map((v) => v ?? '\uffff').join('\u0000');
  processes.sort((a, b) => b.endpoints.length - a.endpoints.length || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
  return { from, to, processes, truncated };
}
