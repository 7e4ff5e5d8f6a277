import type { CellError } from './score';
import type { IncidentPortRow } from '../store/detectionStore';

/**
 * Anomalous rounds become incidents, and incidents get their explanation. Pure: the caller
 * supplies per-round top cells and what the database knows about each port.
 */
export interface ScoredRound {
  roundId: number;
  startedAt: number;
  score: number;
  anomalous: boolean;
  /** Largest-error cells of this round (only needed for anomalous rounds). */
  cells?: CellError[];
  /** Anomalous not by its own score but because what raised the incident before it is still there. */
  continued?: boolean;
  /**
   * Causes found by rules beside the model, which sees ports, not who holds them: a known port
   * held by a program never seen holding it (DetectionStore.ownerChanges), a running program
   * without a port it always holds (DetectionStore.missingPorts).
   */
  ruleCauses?: Cause[];
}

/** A cause of an incident: a cell above the threshold, or a port whose owner changed (`newOwner`: who usually holds it). */
export interface Cause extends CellError {
  newOwner?: { process: string | null; exe: string | null };
}

/** Who held a port in a round (for a port that vanished: who held it last). */
export interface Owner {
  pid: number | null;
  exe: string | null;
  process: string | null;
}

/**
 * What makes two causes one: the same process (pid), or, when the pid is not known, the same
 * executable. A port nobody is known to hold has no owner to share.
 */
export function ownerKey(o: Owner | null | undefined): string | null {
  if (!o) return null;
  if (o.pid != null) return `pid:${o.pid}`;
  const who = o.exe ?? o.process;
  return who ? `exe:${who}` : null;
}

/** A cell that explains an incident: its largest error, and its error summed over the incident's rounds. */
export interface TrackedCell {
  cell: Cause;
  total: number;
  owner: Owner | null;
}

/** An incident still open at the round before the batch (from an earlier run). */
export interface OpenIncident {
  id: number;
  startedAt: number;
  /** Cells of its stored ports, with their owners; `occupied` for the ports that opened. */
  cells: { cell: number; occupied: boolean; owner: Owner | null }[];
}

/** An incident as the tracker sees it over one batch of rounds. */
export interface TrackedIncident {
  /** The stored incident this continues, or null for a new one. */
  continues: number | null;
  startedAt: number;
  rounds: ScoredRound[];
  /** The cells that raised it in this batch (error above the threshold), by cell index. */
  cells: Map<number, TrackedCell>;
  /** Its largest cell error in this batch. */
  peak: number;
  /** A continued incident that gained a port that opened (a listener the same process added). */
  grew: boolean;
}

export interface TrackOptions {
  threshold: number;
  occupiedCells: (round: ScoredRound) => ReadonlySet<number>;
  /** Who holds (or last held) the cell's port as of this round. */
  ownerOf: (cell: CellError, round: ScoredRound) => Owner | null;
  maxStepMs: number;
  /** Incidents open at the round just before `rounds[0]`. */
  open?: readonly OpenIncident[];
}

interface Live {
  incident: TrackedIncident;
  /** Cells it holds (its own and those carried from an earlier run). */
  cells: Set<number>;
  /** Opened cells that keep it open while they stay open. */
  carry: Set<number>;
  owners: Set<string>;
}

/**
 * One incident per cause. A round's causes are its cells whose error is above the threshold
 * (its score is the largest of them). Each cause joins the open incident that already holds its
 * cell, or else the open incident of the same process; otherwise it opens a new incident, one
 * per process among that round's new ports that opened, and one for the ports that vanished in
 * that round, whoever held them: several services stopping in the same minute share their moment
 * (a logout, a suspend, a network change) and are one thing to tell, naming each. So a backdoor
 * that opens while a dev server runs out of hours is an incident of its own, announced, not an
 * "extension" of the other, and a logout is one incident, not one per session service.
 *
 * An incident lasts as long as what raised it: it covers every round in which one of its cells
 * is a cause, and every round in which a port whose opening raised it is still open (the model
 * predicts each round from the ones before, so after a window's length it expects the intruder
 * to stay and its error falls: without this the rest of the intrusion would be learned as normal
 * and would raise the threshold). A vanished port does not hold an incident open: an absence is
 * nothing to keep out of training, and a service stopped for the night would stretch an incident
 * to the morning. A gap in time (sleep, Portent stopped) ends every incident.
 *
 * Returns the rounds with `anomalous` set for every round an incident covers (`continued` when
 * only being held open made it so), and the incidents the batch touched, in order of onset.
 */
export function trackIncidents(rounds: readonly ScoredRound[], o: TrackOptions): { rounds: ScoredRound[]; incidents: TrackedIncident[] } {
  let live: Live[] = (o.open ?? []).map((inc) => ({
    incident: { continues: inc.id, startedAt: inc.startedAt, rounds: [], cells: new Map(), peak: 0, grew: false },
    cells: new Set(inc.cells.map((c) => c.cell)),
    carry: new Set(inc.cells.filter((c) => c.occupied).map((c) => c.cell)),
    owners: new Set(inc.cells.map((c) => ownerKey(c.owner)).filter((k) => k !== null)),
  }));
  const touched: TrackedIncident[] = [];
  let prev: ScoredRound | null = null;
  const out = rounds.map((r) => {
    if (prev !== null && r.startedAt - prev.startedAt > o.maxStepMs) live = [];
    prev = r;
    const occupied = o.occupiedCells(r);
    const active = new Set<Live>();
    const fresh = new Map<string, Live>();
    const causes: Cause[] = [...(r.anomalous ? (r.cells ?? []).filter((c) => c.error > o.threshold) : []), ...(r.ruleCauses ?? [])];
    for (const c of causes) {
      let home = live.find((l) => l.cells.has(c.cell));
      const owner = home?.incident.cells.get(c.cell)?.owner ?? o.ownerOf(c, r);
      const key = ownerKey(owner);
      if (!home && key !== null) home = live.find((l) => l.owners.has(key));
      if (!home) {
        const group = !c.occupied ? 'vanished' : (key ?? `cell:${c.cell}`);
        home = fresh.get(group);
        if (!home) {
          home = { incident: { continues: null, startedAt: r.startedAt, rounds: [], cells: new Map(), peak: 0, grew: false }, cells: new Set(), carry: new Set(), owners: new Set() };
          fresh.set(group, home);
        }
      } else if (!home.cells.has(c.cell) && c.occupied && home.incident.continues !== null) home.incident.grew = true;
      home.cells.add(c.cell);
      if (key !== null) home.owners.add(key);
      // An owner change holds its incident open by being found again each round, not by the
      // port staying open: the port stays open when its usual owner comes back.
      if (c.occupied && !c.newOwner) home.carry.add(c.cell);
      const t = home.incident.cells.get(c.cell);
      if (t) {
        t.total += c.error;
        const newOwner = t.cell.newOwner ?? c.newOwner;
        if (c.error > t.cell.error) t.cell = c;
        if (newOwner) t.cell = { ...t.cell, newOwner };
      } else home.incident.cells.set(c.cell, { cell: c, total: c.error, owner });
      home.incident.peak = Math.max(home.incident.peak, c.error);
      active.add(home);
    }
    // Held open: a port whose opening raised it is still open, though no longer surprising.
    for (const l of live) {
      l.carry = new Set([...l.carry].filter((c) => occupied.has(c)));
      if (l.carry.size > 0) active.add(l);
    }
    for (const l of fresh.values()) active.add(l);
    for (const l of active) {
      if (l.incident.rounds.length === 0) touched.push(l.incident);
      l.incident.rounds.push(r);
    }
    live = [...active];
    if (active.size === 0 || r.anomalous) return r;
    return { ...r, anomalous: true, continued: true };
  });
  return { rounds: out, incidents: touched };
}

/** The cell index of a (proto, port), as features.ts lays them out. */
export function cellOf(proto: 'tcp' | 'udp', port: number, channels: number): number {
  return port * channels + (proto === 'tcp' ? 0 : 1);
}

export type Direction = 'appeared' | 'vanished' | 'unusual-hour';

export interface PortFacts {
  /** Normal rounds in which this (proto, port) was occupied: "is it a known port?". */
  normalRounds: number;
  firstSeenAt: number | null;
  process: string | null;
  exe: string | null;
  pid: number | null;
}

/** A port in an incident's explanation, as it is stored. */
export type ExplainedPort = IncidentPortRow;

/** A port is "known" once it was occupied in this many normal rounds. */
export const KNOWN_PORT_ROUNDS = 3;

/**
 * An occupied cell the model did not expect is "unusual-hour" when the port is known from
 * normal history (the model learned it, just not for this time), else "appeared". A free cell
 * it expected occupied "vanished".
 */
export function directionOf(cell: Pick<CellError, 'occupied'>, facts: Pick<PortFacts, 'normalRounds'>): Direction {
  if (!cell.occupied) return 'vanished';
  return facts.normalRounds >= KNOWN_PORT_ROUNDS ? 'unusual-hour' : 'appeared';
}

function owner(p: Pick<ExplainedPort, 'exe' | 'process' | 'pid'>): string {
  const who = p.exe ?? p.process;
  if (!who) return 'owner unknown';
  return p.pid != null ? `${who} (pid ${p.pid})` : who;
}

function sinceText(ports: readonly ExplainedPort[], incidentStart: number): string {
  // "Never seen" is relative to when the incident began, not to the hour being written.
  const seen = ports.map((p) => p.firstSeenAt).filter((t): t is number => t != null && t < incidentStart - 60_000);
  if (seen.length === 0) return 'never seen before';
  return `first seen ${new Date(Math.min(...seen)).toISOString().slice(0, 16).replace('T', ' ')}`;
}

/** "a, b and c" */
function and(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/**
 * Ports as people read them: by protocol, consecutive numbers as ranges ("41000–41039"), at most
 * eight items and then how many more. `suffix`: add "/tcp" or "/udp" to each item.
 */
export function portList(ports: readonly Pick<ExplainedPort, 'proto' | 'port'>[], suffix = true): string {
  const items: string[] = [];
  for (const proto of ['tcp', 'udp'] as const) {
    const nums = [...new Set(ports.filter((p) => p.proto === proto).map((p) => p.port))].sort((a, b) => a - b);
    for (let i = 0; i < nums.length; ) {
      let j = i;
      while (j + 1 < nums.length && nums[j + 1] === nums[j]! + 1) j++;
      const tail = suffix ? `/${proto}` : '';
      if (j - i >= 2) items.push(`${nums[i]}–${nums[j]}${tail}`);
      else for (let k = i; k <= j; k++) items.push(`${nums[k]}${tail}`);
      i = j + 1;
    }
  }
  return items.length > 8 ? `${items.slice(0, 6).join(', ')} and ${items.length - 6} more` : and(items);
}

function clause(direction: ExplainedPort['direction'], ports: readonly ExplainedPort[], incidentStart: number): string {
  const top = ports[0]!;
  const who = owner(top);
  if (ports.length === 1) {
    const name = `Port ${top.port}/${top.proto}`;
    switch (direction) {
      case 'appeared':
        return `${name} started ${top.proto === 'tcp' ? 'listening' : 'receiving'}: ${who}, ${sinceText(ports, incidentStart)}`;
      case 'vanished':
        return `${name} stopped ${top.proto === 'tcp' ? 'listening' : 'being bound'}${top.exe ?? top.process ? ` (last held by ${who})` : ''}, though it is usually open at this time`;
      case 'unusual-hour':
        return `${name} is open at an unusual time: ${who}; it is known (${sinceText(ports, incidentStart)}) but not usually at this hour`;
      case 'new-owner':
        return `${name} is held by a new program: ${who}, where it is usually ${usual(top)}`;
    }
  }
  const protos = new Set(ports.map((p) => p.proto));
  switch (direction) {
    case 'appeared': {
      if (protos.size === 1) {
        const noun = top.proto === 'tcp' ? 'TCP listeners' : 'bound UDP ports';
        return `${ports.length} new ${noun} by ${who}, ports ${portList(ports, false)}, ${sinceText(ports, incidentStart)}`;
      }
      return `${ports.length} new listening ports by ${who}: ${portList(ports)}, ${sinceText(ports, incidentStart)}`;
    }
    case 'vanished':
      return `Ports ${portList(ports)} stopped listening${top.exe ?? top.process ? ` (last held by ${who})` : ''}, though they are usually open at this time`;
    case 'unusual-hour':
      return `Ports ${portList(ports)} are open at an unusual time: ${who}; they are known (${sinceText(ports, incidentStart)}) but not usually at this hour`;
    case 'new-owner':
      return `Ports ${portList(ports)} are held by a new program: ${who}, where they are usually ${usual(top)}`;
  }
}

function usual(p: Pick<ExplainedPort, 'usualExe' | 'usualProcess'>): string {
  return p.usualExe ?? p.usualProcess ?? 'another program';
}

/**
 * One sentence for the whole incident, for the notification and the list: every port it holds,
 * grouped by what happened and who did it (the group with the most error first), so an incident
 * that grew still names what it began with, and forty new listeners by one process read as one
 * burst ("40 new TCP listeners by /tmp/x (pid 3121), ports 41000–41039, never seen before").
 */
export function sentence(ports: readonly ExplainedPort[], incidentStart: number): string {
  if (ports.length === 0) return 'Unusual port activity (no single port stands out).';
  const groups = new Map<string, ExplainedPort[]>();
  for (const p of ports) {
    const key = `${p.direction}|${p.exe ?? p.process ?? ''}|${p.pid ?? ''}`;
    const g = groups.get(key);
    if (g) g.push(p);
    else groups.set(key, [p]);
  }
  // Later clauses continue the sentence: "…; port 22/tcp stopped listening …".
  const clauses = [...groups.values()].map((g) => clause(g[0]!.direction, g, incidentStart)).map((c, i) => (i > 0 ? c.replace(/^Port/, 'port') : c));
  if (clauses.length <= 3) return `${clauses.join('; ')}.`;
  const rest = [...groups.values()].slice(3).reduce((n, g) => n + g.length, 0);
  return `${clauses.slice(0, 3).join('; ')}; and ${rest} other port${rest > 1 ? 's' : ''}.`;
}
