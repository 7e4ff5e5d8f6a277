import type { Db } from './database';
import type { ConnectionCount, ConnectionEntry, SocketEntry } from '../collect/sockets/types';
import { ConnectionStore, groupConnections, type ConnectionGroup } from './connectionStore';
import type { ResolvedNames } from './resolvedNames';
import { RoundCompactor } from './compaction';

export interface RoundRecord {
  host: string;
  startedAt: number;
  endedAt: number;
  /**
   * The scan's result, or the error that stopped it. `connected`: the sockets that talk, stored
   * as spans (connectionStore.ts); absent when the scan did not list them.
   */
  outcome: { sockets: SocketEntry[]; connections: ConnectionCount[]; connected?: ConnectionEntry[] } | { error: string };
}

export interface StoredRound {
  id: number;
  startedAt: number;
  endedAt: number | null;
  durationMs: number | null;
  host: string;
  status: 'running' | 'ok' | 'failed';
  error: string | null;
}

export interface StoredSocket extends SocketEntry {
  roundId: number;
}

export interface PortSummary {
  proto: 'tcp' | 'udp';
  port: number;
  firstSeenAt: number;
  lastSeenAt: number;
  /** Rounds in the asked period in which the port was occupied. */
  rounds: number;
  processes: string[];
  addresses: string[];
}

/** Owner identities remembered before the cache starts again (a process row is a few hundred bytes). */
const PROCESS_CACHE_LIMIT = 10_000;

/**
 * Writes and reads port-occupancy rounds. A round and all its sockets go in one transaction, so
 * a crash loses at most the round being written and never leaves half of one.
 */
export class RoundStore {
  private readonly insertRound;
  private readonly upsertPort;
  private readonly upsertProcess;
  private readonly insertSocket;
  private readonly insertConnections;
  private readonly writeRound;
  private readonly spans: ConnectionStore;
  private readonly compactor: RoundCompactor;
  /** processes.id by identity, of rows committed; and those the round being written added. */
  private readonly processIds = new Map<string, number>();
  private readonly newProcessIds = new Map<string, number>();
  /** Start and end of the newest stored round, once read (undefined: not read yet; null: no rounds). */
  private newest: { startedAt: number; endedAt: number } | null | undefined;

  /** `names`: the DNS names capture learned, to name new remote ends (resolvedNames.ts). */
  constructor(
    private readonly db: Db,
    names: ResolvedNames | null = null,
  ) {
    this.insertRound = db.prepare<[number, number, number, string, string, string | null]>(
      'INSERT INTO rounds (started_at, ended_at, duration_ms, host, status, error) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.upsertPort = db.prepare<[string, number, number, number], { id: number }>(
      `INSERT INTO ports (proto, port, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (proto, port) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at)
       RETURNING id`,
    );
    // The no-op update makes RETURNING yield the existing row's id on conflict.
    this.upsertProcess = db.prepare<[string, string | null, string | null, string | null, number], { id: number }>(
      `INSERT INTO processes (identity, name, exe, user, first_seen_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (identity) DO UPDATE SET identity = excluded.identity
       RETURNING id`,
    );
    this.insertSocket = db.prepare<[number, number, number, string, number | null, number | null]>(
      'INSERT INTO rounds_ports (round_id, port_id, family, address, pid, process_id) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.insertConnections = db.prepare<[number, string, string, number]>(
      'INSERT INTO round_connections (round_id, proto, remote_port_class, count) VALUES (?, ?, ?, ?)',
    );
    this.spans = new ConnectionStore(db, names);
    this.compactor = new RoundCompactor(db);
    // The same few programs own sockets round after round: their rows' ids are remembered, so a
    // round upserts only owners it has not seen. Ids join the cache once their round committed.
    const processOf = (at: number, owner: Pick<SocketEntry, 'process' | 'exe' | 'user'>): number | null => {
      if (owner.process === null && owner.exe === null && owner.user === null) return null;
      const identity = JSON.stringify([owner.process, owner.exe, owner.user]);
      let id = this.processIds.get(identity) ?? this.newProcessIds.get(identity);
      if (id === undefined) {
        id = this.upsertProcess.get(identity, owner.process, owner.exe, owner.user, at)!.id;
        this.newProcessIds.set(identity, id);
      }
      return id;
    };
    this.writeRound = db.transaction((r: RoundRecord): number => {
      const failed = 'error' in r.outcome;
      const roundId = Number(
        this.insertRound.run(r.startedAt, r.endedAt, Math.max(0, r.endedAt - r.startedAt), r.host, failed ? 'failed' : 'ok', failed ? (r.outcome as { error: string }).error : null)
          .lastInsertRowid,
      );
      if ('sockets' in r.outcome) {
        for (const s of r.outcome.sockets) {
          const portId = this.upsertPort.get(s.proto, s.port, r.startedAt, r.startedAt)!.id;
          this.insertSocket.run(roundId, portId, s.family, s.address, s.pid, processOf(r.startedAt, s));
        }
        for (const c of r.outcome.connections) this.insertConnections.run(roundId, c.proto, c.remotePortClass, c.count);
        if (r.outcome.connected) {
          const groups = groupConnections(r.outcome.connected, r.outcome.sockets);
          this.spans.record(roundId, r.startedAt, groups, (g: ConnectionGroup) => processOf(r.startedAt, g));
        }
      }
      // Rounds past the newest hour become runs in the same transaction: a round is never
      // stored without the history before it being kept whole (compaction.ts).
      this.compactor.compact(roundId);
      return roundId;
    });
  }

  /** Records one finished round (successful or failed) and returns its id. */
  record(round: RoundRecord): number {
    try {
      const id = this.writeRound.immediate(round);
      if (this.newest !== undefined && (this.newest === null || round.startedAt >= this.newest.startedAt)) this.newest = { startedAt: round.startedAt, endedAt: round.endedAt };
      if (this.processIds.size + this.newProcessIds.size > PROCESS_CACHE_LIMIT) this.processIds.clear();
      for (const [identity, processId] of this.newProcessIds) this.processIds.set(identity, processId);
      return id;
    } finally {
      this.newProcessIds.clear();
    }
  }

  /**
   * When the newest stored round started and ended (null: none stored), so that a round is only
   * taken once the wall clock is past it (collectRound.ts). Read once, then kept by record().
   */
  newestRound(): { startedAt: number; endedAt: number } | null {
    if (this.newest === undefined) {
      this.newest =
        this.db
          .prepare<[], { startedAt: number; endedAt: number }>('SELECT started_at AS startedAt, coalesce(ended_at, started_at) AS endedAt FROM rounds ORDER BY started_at DESC LIMIT 1')
          .get() ?? null;
    }
    return this.newest;
  }

  rounds(options: { since?: number; limit?: number } = {}): StoredRound[] {
    return this.db
      .prepare<[number, number], StoredRound>(
        `SELECT id, started_at AS startedAt, ended_at AS endedAt, duration_ms AS durationMs, host, status, error
         FROM rounds WHERE started_at >= ? ORDER BY started_at DESC LIMIT ?`,
      )
      .all(options.since ?? 0, options.limit ?? -1);
  }

  /** A round's sockets, as the scan listed them (identical sockets once each). */
  socketsOf(roundId: number): StoredSocket[] {
    return this.db
      .prepare<[number], StoredSocket & { count: number }>(
        `SELECT rp.round_id AS roundId, p.proto, rp.family, rp.address, p.port, rp.pid,
                pr.name AS process, pr.exe, pr.user, rp.count
         FROM round_sockets rp JOIN ports p ON p.id = rp.port_id LEFT JOIN processes pr ON pr.id = rp.process_id
         WHERE rp.round_id = ? ORDER BY p.proto, p.port, rp.family, rp.address, rp.pid`,
      )
      .all(roundId)
      .flatMap(({ count, ...s }) => Array.from({ length: count }, () => s));
  }

  connectionsOf(roundId: number): ConnectionCount[] {
    return this.db
      .prepare<[number], ConnectionCount>(
        `SELECT proto, remote_port_class AS remotePortClass, count FROM round_connections WHERE round_id = ?
         ORDER BY proto, CASE remote_port_class WHEN 'well-known' THEN 0 WHEN 'registered' THEN 1 ELSE 2 END`,
      )
      .all(roundId);
  }

  /** Every port occupied in a round that started at or after `since`, with who held it. */
  ports(options: { since?: number } = {}): PortSummary[] {
    const rows = this.db
      .prepare<{ since: number }, { proto: 'tcp' | 'udp'; port: number; firstSeenAt: number; lastSeenAt: number; rounds: number; processes: string | null; addresses: string | null }>(
        `SELECT p.proto, p.port, p.first_seen_at AS firstSeenAt, p.last_seen_at AS lastSeenAt,
                count(DISTINCT rp.round_id) AS rounds,
                json_group_array(DISTINCT pr.name) FILTER (WHERE pr.name IS NOT NULL) AS processes,
                json_group_array(DISTINCT rp.address) AS addresses
         FROM round_sockets rp JOIN rounds r ON r.id = rp.round_id JOIN ports p ON p.id = rp.port_id
         LEFT JOIN processes pr ON pr.id = rp.process_id
         WHERE rp.round_id >= (SELECT coalesce(min(id), 0) FROM rounds WHERE started_at >= @since) AND r.started_at >= @since
         GROUP BY p.id ORDER BY p.proto, p.port`,
      )
      .all({ since: options.since ?? 0 });
    return rows.map((r) => ({
      ...r,
      processes: (JSON.parse(r.processes ?? '[]') as string[]).sort(),
      addresses: (JSON.parse(r.addresses ?? '[]') as string[]).sort(),
    }));
  }
}
