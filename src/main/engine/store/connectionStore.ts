import type { Db } from './database';
import type { ConnectionEntry, ConnectionState, Proto, SocketEntry } from '../collect/sockets/types';
import type { ResolvedNames } from './resolvedNames';

/**
 * Writes each round's connections as spans (migration 007): per (remote end, direction, local
 * port of an accepted connection, state, pid, process) the number of sockets, kept in one row
 * for as long as it stays the same from one round to the next. A round that changes nothing
 * moves the last round of its spans and writes no new row.
 *
 * A span continues only into the round right after its last one: after a failed round, or when
 * the monitor was stopped in between and another round was written, new spans start (a span
 * never claims a round it was not seen in).
 */

export type Direction = 'out' | 'in';

/** One row of a round's connections, as stored: sockets grouped by owner, remote end and state. */
export interface ConnectionGroup {
  proto: Proto;
  direction: Direction;
  remoteAddress: string;
  /** 0 for an accepted connection: the peer's port is an ephemeral one, not kept. */
  remotePort: number;
  /** The listener's port, for an accepted connection; null for one this machine opened. */
  localPort: number | null;
  state: ConnectionState;
  pid: number | null;
  process: string | null;
  exe: string | null;
  user: string | null;
  count: number;
}

interface OpenSpan {
  id: number;
  count: number;
}

/** Endpoint ids are looked up once per process lifetime; past this many the cache starts again. */
const ENDPOINT_CACHE_LIMIT = 50_000;

/** Groups a round's connected sockets: accepted ones by the listener's port, the rest by peer. */
export function groupConnections(connected: readonly ConnectionEntry[], listening: readonly Pick<SocketEntry, 'proto' | 'port'>[]): ConnectionGroup[] {
  const listeners = new Set(listening.map((s) => `${s.proto}/${s.port}`));
  const groups = new Map<string, ConnectionGroup>();
  for (const c of connected) {
    const direction: Direction = listeners.has(`${c.proto}/${c.localPort}`) ? 'in' : 'out';
    const remotePort = direction === 'in' ? 0 : c.remotePort;
    const localPort = direction === 'in' ? c.localPort : null;
    const key = JSON.stringify([c.proto, direction, c.remoteAddress, remotePort, localPort, c.state, c.pid, c.process, c.exe, c.user]);
    const g = groups.get(key);
    if (g) g.count += 1;
    else groups.set(key, { proto: c.proto, direction, remoteAddress: c.remoteAddress, remotePort, localPort, state: c.state, pid: c.pid, process: c.process, exe: c.exe, user: c.user, count: 1 });
  }
  return [...groups.values()];
}

export class ConnectionStore {
  private readonly previousRound;
  private readonly openSpans;
  private readonly upsertEndpoint;
  private readonly touchEndpoints;
  private readonly insertSpan;
  private readonly extendSpans;
  private readonly ownEndpoint;
  private readonly endpoints = new Map<string, number>();
  /** The spans that reached the last round this store wrote, by key; reloaded when that round is not the previous one. */
  private open = new Map<string, OpenSpan>();
  private lastRoundId: number | null = null;

  constructor(
    db: Db,
    /** Names from captured DNS answers, given to an endpoint when it is first stored. */
    private readonly names: ResolvedNames | null = null,
  ) {
    this.previousRound = db.prepare<[number], number | null>('SELECT max(id) FROM rounds WHERE id < ?').pluck();
    this.openSpans = db.prepare<[number], { id: number; endpoint_id: number; direction: Direction; local_port: number | null; state: ConnectionState; pid: number | null; process_id: number | null; count: number }>(
      'SELECT id, endpoint_id, direction, local_port, state, pid, process_id, count FROM connection_spans WHERE last_round_id = ?',
    );
    this.upsertEndpoint = db.prepare<[string, string, number, number, number, string | null, number | null], { id: number }>(
      `INSERT INTO remote_endpoints (proto, address, port, first_seen_at, last_seen_at, name, name_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (proto, address, port) DO UPDATE SET
         last_seen_at = max(last_seen_at, excluded.last_seen_at),
         name = CASE WHEN excluded.name_at > coalesce(name_at, -1) THEN excluded.name ELSE name END,
         name_at = CASE WHEN excluded.name_at > coalesce(name_at, -1) THEN excluded.name_at ELSE name_at END
       RETURNING id`,
    );
    this.touchEndpoints = db.prepare<[number, string]>('UPDATE remote_endpoints SET last_seen_at = max(last_seen_at, ?) WHERE id IN (SELECT value FROM json_each(?))');
    this.insertSpan = db.prepare<[number, number, number, Direction, number | null, ConnectionState, number | null, number | null, number]>(
      'INSERT INTO connection_spans (first_round_id, last_round_id, endpoint_id, direction, local_port, state, pid, process_id, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.extendSpans = db.prepare<[number, string]>('UPDATE connection_spans SET last_round_id = ? WHERE id IN (SELECT value FROM json_each(?))');
    // The first round a process held a socket to a remote end (migration 008): only a new span
    // can be a first, so a quiet round writes nothing here either.
    this.ownEndpoint = db.prepare<[number, number, number, number]>(
      'INSERT INTO endpoint_owners (process_id, endpoint_id, first_round_id, first_seen_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
  }

  /**
   * Records round `roundId`'s connections. Runs inside the round's own transaction (RoundStore),
   * after the round row is written; `processId` gives the processes row of an owner, or null.
   */
  record(roundId: number, at: number, groups: readonly ConnectionGroup[], processId: (g: ConnectionGroup) => number | null): void {
    const previous = this.previousRound.get(roundId) ?? null;
    if (previous === null) this.open = new Map();
    else if (previous !== this.lastRoundId) {
      this.open = new Map();
      for (const s of this.openSpans.all(previous)) this.open.set(spanKey(s.endpoint_id, s.direction, s.local_port, s.state, s.pid, s.process_id), { id: s.id, count: s.count });
    }
    const next = new Map<string, OpenSpan>();
    const extended: number[] = [];
    const seenEndpoints: number[] = [];
    for (const g of groups) {
      const endpointId = this.endpointId(g, at);
      seenEndpoints.push(endpointId);
      const owner = processId(g);
      const key = spanKey(endpointId, g.direction, g.localPort, g.state, g.pid, owner);
      const open = this.open.get(key);
      if (open && open.count === g.count) {
        extended.push(open.id);
        next.set(key, open);
      } else {
        const id = Number(this.insertSpan.run(roundId, roundId, endpointId, g.direction, g.localPort, g.state, g.pid, owner, g.count).lastInsertRowid);
        if (owner !== null) this.ownEndpoint.run(owner, endpointId, roundId, at);
        next.set(key, { id, count: g.count });
      }
    }
    if (extended.length > 0) this.extendSpans.run(roundId, JSON.stringify(extended));
    if (seenEndpoints.length > 0) this.touchEndpoints.run(at, JSON.stringify(seenEndpoints));
    this.open = next;
    this.lastRoundId = roundId;
  }

  private endpointId(g: ConnectionGroup, at: number): number {
    const key = `${g.proto}|${g.remoteAddress}|${g.remotePort}`;
    let id = this.endpoints.get(key);
    if (id === undefined) {
      if (this.endpoints.size >= ENDPOINT_CACHE_LIMIT) this.endpoints.clear();
      const named = this.names?.nameOf(g.remoteAddress) ?? null;
      id = this.upsertEndpoint.get(g.proto, g.remoteAddress, g.remotePort, at, at, named?.name ?? null, named?.at ?? null)!.id;
      this.endpoints.set(key, id);
    }
    return id;
  }
}

function spanKey(endpointId: number, direction: Direction, localPort: number | null, state: ConnectionState, pid: number | null, processId: number | null): string {
  return `${endpointId}|${direction}|${localPort ?? ''}|${state}|${pid ?? ''}|${processId ?? ''}`;
}
