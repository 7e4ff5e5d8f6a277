import type { Db } from './database';
import type { IncidentAction, IncidentProcess } from '../../../shared/contract';
import { bootTime, readProcess, startedAtMs, type LiveProcess } from '../actions/processIdentity';

/** An incident's process as a round saw it: pid, and what the scanner read of it. */
export interface SeenProcess {
  pid: number;
  exe: string | null;
  name: string | null;
  /** When the round that saw it began (ms): a process that started later is not the one seen. */
  seenAt: number;
}

export interface IdentityReader {
  read(pid: number): LiveProcess | null;
  /** When the machine booted (ms), to turn start ticks into a time; null where unknown. */
  bootTime(): number | null;
}

export const procIdentity: IdentityReader = { read: (pid) => readProcess(pid), bootTime: () => bootTime() };

/** Slack between a round's start and the end of its scan, and for the clock ticks' rounding. */
const SEEN_SLACK_MS = 90_000;

/**
 * Reads (migration 011) the processes an incident names and what was done about it. A process's
 * start time is recorded only when the process now at that pid can be the one the round saw: same
 * executable, started before the round. Otherwise (it has gone, its pid was reused, /proc is not
 * there) the start time stays unknown and Portent never signals it.
 */
export class ActionStore {
  constructor(
    private readonly db: Db,
    private readonly identity: IdentityReader = procIdentity,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records the processes of an incident not recorded yet for it; the first sighting of a pid stays. */
  recordProcesses(incidentId: number, seen: readonly SeenProcess[]): void {
    const fresh = seen.filter((s, i) => seen.findIndex((t) => t.pid === s.pid) === i && s.pid > 0);
    if (fresh.length === 0) return;
    const known = new Set(this.db.prepare<[number], number>('SELECT pid FROM incident_processes WHERE incident_id = ?').pluck().all(incidentId));
    const insert = this.db.prepare(
      'INSERT OR IGNORE INTO incident_processes (incident_id, pid, start_ticks, exe, name, uid, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    let boot: number | null | undefined;
    for (const s of fresh) {
      if (known.has(s.pid)) continue;
      const live = this.identity.read(s.pid);
      boot ??= this.identity.bootTime();
      const matches = live !== null && (s.exe === null || live.exe === s.exe) && boot !== null && startedAtMs(live.startTicks, boot) <= s.seenAt + SEEN_SLACK_MS;
      insert.run(incidentId, s.pid, matches ? live.startTicks : null, s.exe ?? (matches ? live.exe : null), s.name ?? (matches ? live.name : null), matches ? live.uid : null, this.now());
    }
  }

  /** The processes an incident names, with the ports of it each held. */
  processes(incidentId: number): IncidentProcess[] {
    const rows = this.db
      .prepare<[number], Omit<IncidentProcess, 'ports'>>(
        'SELECT pid, start_ticks AS startTicks, exe, name, uid FROM incident_processes WHERE incident_id = ? ORDER BY recorded_at, pid',
      )
      .all(incidentId);
    const ports = this.db.prepare<[number, number], IncidentProcess['ports'][number]>(
      'SELECT DISTINCT proto, port FROM incident_ports WHERE incident_id = ? AND pid = ? ORDER BY proto, port',
    );
    return rows.map((r) => ({ ...r, ports: ports.all(incidentId, r.pid) }));
  }

  process(incidentId: number, pid: number): IncidentProcess | undefined {
    return this.processes(incidentId).find((p) => p.pid === pid);
  }

  /**
   * Records an action before it is taken, as failed with the reason a crash would leave true, so
   * that a signal sent by a monitor that then died is never lost; `finishAction` says how it ended.
   */
  beginAction(incidentId: number, pid: number, at: number, action: IncidentAction['action'] = 'stop'): number {
    return Number(
      this.db
        .prepare("INSERT INTO incident_actions (incident_id, at, action, pid, outcome, detail) VALUES (?, ?, ?, ?, 'failed', ?)")
        .run(incidentId, at, action, pid, 'Portent stopped before it knew the outcome').lastInsertRowid,
    );
  }

  finishAction(actionId: number, outcome: IncidentAction['outcome'], detail: string): IncidentAction {
    this.db.prepare('UPDATE incident_actions SET outcome = ?, detail = ? WHERE id = ?').run(outcome, detail, actionId);
    return this.db.prepare<[number], IncidentAction>('SELECT at, action, pid, outcome, detail FROM incident_actions WHERE id = ?').get(actionId)!;
  }

  actions(incidentId: number): IncidentAction[] {
    return this.db
      .prepare<[number], IncidentAction>('SELECT at, action, pid, outcome, detail FROM incident_actions WHERE incident_id = ? ORDER BY id')
      .all(incidentId);
  }
}
