import type { Db } from '../store/database';
import type { ConnectionState, Proto } from '../collect/sockets/types';

/**
 * The SQL behind the traffic features: a fixed number of statements per batch of windows, each a
 * range on an indexed column, so a batch costs what the rows of its rounds cost and never a scan
 * of the history before them (docs/detection.md, "Traffic features", lists what each one reads).
 */

export interface RoundRow {
  id: number;
  startedAt: number;
  endedAt: number | null;
}

export interface SpanRow {
  first: number;
  last: number;
  endpointId: number;
  direction: 'out' | 'in';
  localPort: number | null;
  state: ConnectionState;
  pid: number | null;
  processId: number | null;
  count: number;
  proto: Proto;
  address: string;
  port: number;
  name: string | null;
  /** When any process was first seen talking to this remote end (remote_endpoints). */
  endpointFirstSeenAt: number;
  /** The first round this span's process held a socket to it (endpoint_owners), and when. */
  ownerFirstRound: number | null;
  ownerFirstSeenAt: number | null;
  /** Start of the span's first round; null if that round is gone. */
  firstStartedAt: number | null;
}

export interface FlowRow {
  roundId: number;
  proto: string;
  localPort: number | null;
  remoteAddr: string;
  remotePort: number | null;
  direction: 'outbound' | 'inbound';
  packets: number;
  bytes: number;
  firstTs: number;
  tcpFlags: number;
  portId: number | null;
  processId: number | null;
}

export interface DnsRow {
  roundId: number;
  srcPort: number | null;
  query: string;
  answer: string | null;
  rcode: string | null;
  processId: number | null;
}

/** A remote end known to the socket table, for a key only capture saw in the batch. */
export interface KnownEndpointRow {
  key: string;
  /** The owner the row was looked up for. */
  processId: number | null;
  id: number;
  firstSeenAt: number;
  name: string | null;
  ownerFirstRound: number | null;
  ownerFirstSeenAt: number | null;
}

/** What the history knows of a name a batch talks to, for one owner (null: only anywhere). */
export interface KnownNameRow {
  name: string;
  proto: string;
  port: number;
  processId: number | null;
  /** First sighting of any remote end of that name, protocol and port. */
  anyAt: number;
  /** The owner's first sighting of one of them, or null. */
  ownerAt: number | null;
}

export interface NameLookup {
  name: string;
  proto: string;
  port: number;
  processId: number | null;
}

export interface EndpointLookup {
  key: string;
  proto: string;
  /** Plain form; the IPv4-mapped form is looked up too. */
  address: string;
  port: number;
  processId: number | null;
}

/**
 * A flow of the look-back, as a plain array (no object per row: six hours of a busy machine's
 * flows are read): round id, proto, local port, remote address, remote port, direction,
 * first_ts, tcp flags, whether a listening port owned it (1/0), process id.
 */
export type LookBackFlow = [number, string, number | null, string, number | null, string, number, number, number, number | null];

const orNull = (s: string): number | null => (s === '' ? null : Number(s));

/** The fields of one line of a round's flows (TRAFFIC_SQL.flows, lookBackFlows). */
function fieldsOf(roundId: number, line: string, count: number): string[] {
  const f = line.split(' ');
  if (f.length !== count) throw new Error(`a flow of round ${roundId} has ${f.length} fields, not ${count}: ${JSON.stringify(line)}`);
  return f;
}

/** A flow from its round and its line of TRAFFIC_SQL.flows. */
function flowRowOf(roundId: number, line: string): FlowRow {
  const f = fieldsOf(roundId, line, 11);
  return {
    roundId,
    proto: f[0]!,
    localPort: orNull(f[1]!),
    remoteAddr: f[2]!,
    remotePort: orNull(f[3]!),
    direction: f[4] as FlowRow['direction'],
    packets: Number(f[5]),
    bytes: Number(f[6]),
    firstTs: Number(f[7]),
    tcpFlags: Number(f[8]),
    portId: orNull(f[9]!),
    processId: orNull(f[10]!),
  };
}

/** A look-back flow from its round and its line of TRAFFIC_SQL.lookBackFlows (fields 2 to 10 of LookBackFlow). */
function lookBackFlowOf(roundId: number, line: string): LookBackFlow {
  const f = fieldsOf(roundId, line, 9);
  return [roundId, f[0]!, orNull(f[1]!), f[2]!, orNull(f[3]!), f[4]!, Number(f[5]), Number(f[6]), Number(f[7]), orNull(f[8]!)];
}

export interface ProcessRow {
  id: number;
  name: string | null;
  exe: string | null;
  user: string | null;
}

/** The statements, with the index each one reads through (a test checks the plans). */
export const TRAFFIC_SQL = {
  // rounds: primary key range.
  windowRounds: 'SELECT id, started_at AS startedAt, ended_at AS endedAt FROM rounds WHERE id BETWEEN ? AND ? ORDER BY id',
  // The batch's rounds and the look-back before them, plus the one round before that (to tell
  // whether a connection seen in the look-back's first round was already there): one seek in
  // rounds_started_at, one in the primary key, then a primary key range.
  historyRounds: `WITH start AS (SELECT min(@first, coalesce((SELECT id FROM rounds WHERE started_at >= @since ORDER BY started_at LIMIT 1), @first)) AS id)
     SELECT id, started_at AS startedAt, ended_at AS endedAt FROM rounds
     WHERE id >= coalesce((SELECT id FROM rounds WHERE id < (SELECT id FROM start) ORDER BY id DESC LIMIT 1), (SELECT id FROM start))
       AND id <= @last
     ORDER BY id`,
  // round_capture: primary key range.
  captureOn: "SELECT round_id FROM round_capture WHERE round_id BETWEEN ? AND ? AND state = 'on'",
  // Spans overlapping the rounds: connection_spans_last (last_round_id >= from, first_round_id
  // checked inside the index), then primary-key lookups of the remote end, the process's first
  // sighting of it (endpoint_owners) and the span's first round. The range runs from `from` to
  // the newest span, so reading recent windows (the hourly job) touches recent spans only; a
  // replay of old windows pays for the spans after them too, once per batch.
  spans: `SELECT s.first_round_id AS first, s.last_round_id AS last, s.endpoint_id AS endpointId, s.direction, s.local_port AS localPort,
            s.state, s.pid, s.process_id AS processId, s.count,
            e.proto, e.address, e.port, e.name, e.first_seen_at AS endpointFirstSeenAt,
            o.first_round_id AS ownerFirstRound, o.first_seen_at AS ownerFirstSeenAt,
            r.started_at AS firstStartedAt
     FROM connection_spans s INDEXED BY connection_spans_last
     JOIN remote_endpoints e ON e.id = s.endpoint_id
     LEFT JOIN endpoint_owners o ON o.process_id = s.process_id AND o.endpoint_id = s.endpoint_id
     LEFT JOIN rounds r ON r.id = s.first_round_id
     WHERE s.last_round_id >= ? AND s.first_round_id <= ?`,
  // flows_round: a range of round ids. Transit and local traffic is not this host talking.
  // One row per round, its flows as lines of text, as lookBackFlows below.
  flows: `SELECT round_id, group_concat(concat_ws(' ', proto, ifnull(local_port, ''), remote_addr, ifnull(remote_port, ''), direction, packets, bytes,
                                                   first_ts, tcp_flags, ifnull(port_id, ''), ifnull(process_id, '')), char(10) ORDER BY id)
     FROM flows WHERE round_id BETWEEN ? AND ? AND direction IN ('outbound', 'inbound') GROUP BY round_id ORDER BY round_id`,
  // flows_round: a range of round ids, then only rows with one of the given remote addresses
  // (an IN list SQLite turns into a lookup): the look-back before a batch's windows is read for
  // the remote ends those windows talk with, not for everything six hours of a busy machine did.
  // One row per round, its flows as lines of space-separated fields (LookBackFlow's, after the
  // round; a NULL as an empty field): an hourly run reads half a million flows here, and handing each to
  // JavaScript as a row of its own cost twice the time of SQLite writing them out as text and
  // JavaScript splitting it (docs/detection.md, "Reading the look-back").
  lookBackFlows: `SELECT round_id, group_concat(concat_ws(' ', proto, ifnull(local_port, ''), remote_addr, ifnull(remote_port, ''), direction, first_ts,
                                                   tcp_flags, port_id IS NOT NULL, ifnull(process_id, '')), char(10) ORDER BY id)
     FROM flows WHERE round_id BETWEEN ? AND ? AND direction IN ('outbound', 'inbound') AND proto IN ('tcp', 'udp')
       AND remote_addr IN (SELECT value FROM json_each(?)) GROUP BY round_id ORDER BY round_id`,
  // packets_round: a range of round ids; DNS rows only.
  dns: `SELECT round_id AS roundId, src_port AS srcPort, dns_query AS query, dns_answer AS answer, dns_rcode AS rcode, process_id AS processId
     FROM packets WHERE round_id BETWEEN ? AND ? AND dns_query IS NOT NULL ORDER BY round_id, ts, id`,
  // Per key: remote_endpoints' unique (proto, address, port), then endpoint_owners' primary key.
  knownEndpoints: `SELECT json_extract(j.value, '$[0]') AS key, json_extract(j.value, '$[4]') AS processId, e.id, e.first_seen_at AS firstSeenAt, e.name,
            o.first_round_id AS ownerFirstRound, o.first_seen_at AS ownerFirstSeenAt
     FROM json_each(?) j
     JOIN remote_endpoints e ON e.proto = json_extract(j.value, '$[1]')
                            AND e.address IN (json_extract(j.value, '$[2]'), '::ffff:' || json_extract(j.value, '$[2]'))
                            AND e.port = json_extract(j.value, '$[3]')
     LEFT JOIN endpoint_owners o ON o.process_id = json_extract(j.value, '$[4]') AND o.endpoint_id = e.id`,
  // Per (name, proto, port, owner): remote_endpoints_name (a range of the name's ends), then
  // endpoint_owners' primary key for each of them.
  knownNames: `SELECT json_extract(j.value, '$[0]') AS name, json_extract(j.value, '$[1]') AS proto, json_extract(j.value, '$[2]') AS port,
            json_extract(j.value, '$[3]') AS processId, min(e.first_seen_at) AS anyAt, min(o.first_seen_at) AS ownerAt
     FROM json_each(?) j
     JOIN remote_endpoints e INDEXED BY remote_endpoints_name
       ON e.name = json_extract(j.value, '$[0]') AND e.proto = json_extract(j.value, '$[1]') AND e.port = json_extract(j.value, '$[2]')
     LEFT JOIN endpoint_owners o ON o.process_id = json_extract(j.value, '$[3]') AND o.endpoint_id = e.id
     GROUP BY j.key`,
  // processes: primary key.
  processes: 'SELECT id, name, exe, user FROM processes WHERE id IN (SELECT value FROM json_each(?))',
} as const;

export class TrafficQueries {
  private readonly windowRoundsStmt;
  private readonly historyRoundsStmt;
  private readonly captureStmt;
  private readonly spansStmt;
  private readonly flowsStmt;
  private readonly lookBackStmt;
  private readonly dnsStmt;
  private readonly endpointsStmt;
  private readonly namesStmt;
  private readonly processesStmt;

  constructor(db: Db) {
    this.windowRoundsStmt = db.prepare<[number, number], RoundRow>(TRAFFIC_SQL.windowRounds);
    this.historyRoundsStmt = db.prepare<{ since: number; first: number; last: number }, RoundRow>(TRAFFIC_SQL.historyRounds);
    this.captureStmt = db.prepare<[number, number], number>(TRAFFIC_SQL.captureOn).pluck();
    this.spansStmt = db.prepare<[number, number], SpanRow>(TRAFFIC_SQL.spans);
    this.flowsStmt = db.prepare<[number, number], [number, string]>(TRAFFIC_SQL.flows).raw();
    this.lookBackStmt = db.prepare<[number, number, string], [number, string]>(TRAFFIC_SQL.lookBackFlows).raw();
    this.dnsStmt = db.prepare<[number, number], DnsRow>(TRAFFIC_SQL.dns);
    this.endpointsStmt = db.prepare<[string], KnownEndpointRow>(TRAFFIC_SQL.knownEndpoints);
    this.namesStmt = db.prepare<[string], KnownNameRow>(TRAFFIC_SQL.knownNames);
    this.processesStmt = db.prepare<[string], ProcessRow>(TRAFFIC_SQL.processes);
  }

  windowRounds(fromRoundId: number, toRoundId: number): RoundRow[] {
    return this.windowRoundsStmt.all(fromRoundId, toRoundId);
  }

  /** Rounds from the one before the look-back (which starts at `since`) through `last`. */
  historyRounds(since: number, first: number, last: number): RoundRow[] {
    return this.historyRoundsStmt.all({ since, first, last });
  }

  captureOn(from: number, to: number): Set<number> {
    return new Set(this.captureStmt.all(from, to));
  }

  spans(from: number, to: number): SpanRow[] {
    return this.spansStmt.all(from, to);
  }

  /** The flows of the rounds, inbound and outbound, a round at a time, in the order they were recorded. */
  *flows(from: number, to: number): Generator<FlowRow[]> {
    for (const [roundId, text] of this.flowsStmt.iterate(from, to) as IterableIterator<[number, string]>) yield text.split('\n').map((line) => flowRowOf(roundId, line));
  }

  /**
   * TCP and UDP flows of the rounds with one of `addresses` as their remote address, a round at
   * a time, in the order they were recorded, as arrays (LookBackFlow).
   */
  *lookBackFlows(from: number, to: number, addresses: readonly string[]): Generator<LookBackFlow[]> {
    for (const [roundId, text] of this.lookBackStmt.iterate(from, to, JSON.stringify(addresses)) as IterableIterator<[number, string]>) {
      yield text.split('\n').map((line) => lookBackFlowOf(roundId, line));
    }
  }

  dns(from: number, to: number): DnsRow[] {
    return this.dnsStmt.all(from, to);
  }

  knownEndpoints(lookups: readonly EndpointLookup[]): KnownEndpointRow[] {
    if (lookups.length === 0) return [];
    return this.endpointsStmt.all(JSON.stringify(lookups.map((l) => [l.key, l.proto, l.address, l.port, l.processId])));
  }

  /** Per lookup that matches a remote end of its name, protocol and port: the first sightings. */
  knownNames(lookups: readonly NameLookup[]): KnownNameRow[] {
    if (lookups.length === 0) return [];
    return this.namesStmt.all(JSON.stringify(lookups.map((l) => [l.name, l.proto, l.port, l.processId])));
  }

  processes(ids: readonly number[]): ProcessRow[] {
    if (ids.length === 0) return [];
    return this.processesStmt.all(JSON.stringify(ids));
  }
}
