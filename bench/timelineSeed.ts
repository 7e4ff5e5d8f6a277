/**
 * A real database with a long port history, for the benches that read it (timeline,
 * responsiveness): one-minute rounds holding about fifty ports each, a few listeners held on
 * IPv4 and IPv6, a few that come and go with the hour. Written row by row, then every round but
 * the newest hour moved into runs, as the collector leaves them (store/compaction.ts).
 */
import type { Db } from '../src/main/engine/store/database';
import { KEEP_ROUNDS, RoundCompactor } from '../src/main/engine/store/compaction';

export const STEP_MS = 60_000;
const PORTS = 50;
export const START = Date.UTC(2025, 0, 1);

/** Port k is held always (k < 35), or only in some hours (the rest), by one of twelve programs. */
export function seedTimeline(db: Db, days: number): { rounds: number; sockets: number; end: number } {
  const insertRound = db.prepare("INSERT INTO rounds (started_at, ended_at, duration_ms, host, status) VALUES (?, ?, 15, 'bench', 'ok')");
  const insertPort = db.prepare('INSERT INTO ports (proto, port, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?)');
  const insertProcess = db.prepare('INSERT INTO processes (identity, name, exe, user, first_seen_at) VALUES (?, ?, ?, ?, ?)');
  const insertSocket = db.prepare('INSERT INTO rounds_ports (round_id, port_id, family, address, pid, process_id) VALUES (?, ?, ?, ?, ?, ?)');
  const rounds = (days * 86_400_000) / STEP_MS;
  let sockets = 0;
  // A cache large enough for the indexes being built keeps the seed to seconds.
  db.pragma('cache_size = -262144');
  db.transaction(() => {
    const processIds: number[] = [];
    for (let i = 0; i < 12; i++) {
      const name = `daemon${i}`;
      processIds.push(Number(insertProcess.run(JSON.stringify([name, `/usr/sbin/${name}`, 'root']), name, `/usr/sbin/${name}`, 'root', START).lastInsertRowid));
    }
    const portIds: number[] = [];
    for (let k = 0; k < PORTS; k++) {
      portIds.push(Number(insertPort.run(k % 5 === 4 ? 'udp' : 'tcp', 1000 + k * 37, START, START + rounds * STEP_MS).lastInsertRowid));
    }
    for (let i = 0; i < rounds; i++) {
      const at = START + i * STEP_MS;
      const roundId = Number(insertRound.run(at, at + 15).lastInsertRowid);
      const hour = Math.floor(i / 60);
      for (let k = 0; k < PORTS; k++) {
        if (k >= 35 && (hour + k) % 3 === 0) continue;
        const processId = processIds[k % processIds.length]!;
        insertSocket.run(roundId, portIds[k]!, 4, '0.0.0.0', 100 + k, processId);
        sockets++;
        if (k % 10 === 0) {
          insertSocket.run(roundId, portIds[k]!, 6, '::', 100 + k, processId);
          sockets++;
        }
      }
    }
  })();
  const compactor = new RoundCompactor(db);
  db.transaction(() => compactor.compactUpTo(rounds - KEEP_ROUNDS))();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.pragma('cache_size = -2000');
  return { rounds, sockets, end: START + rounds * STEP_MS };
}

