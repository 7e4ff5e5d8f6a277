import fs from 'node:fs';
import type { ConnectionEntry } from '../../src/main/engine/collect/sockets/types';
import { CaptureStore } from '../../src/main/engine/store/captureStore';
import type { Db } from '../../src/main/engine/store/database';
import { ResolvedNames } from '../../src/main/engine/store/resolvedNames';
import { RoundStore } from '../../src/main/engine/store/rounds';
import { dayStartOf, planDays, type DayPlan } from './days';
import { legitimateWeek } from './desktop';
import { Draw } from './draw';
import { injectIncidents, type Incident } from './incidents';
import { resolve } from './resolver';
import { finalize, roundsOf, type SimRound } from './rounds';
import { AddressPool, DAY, HOST, IFACE, Internet, listeners, MINUTE, Pids, Traffic } from './world';

/**
 * A simulated week (by default 8 days: one learning day and seven more) of a desktop's traffic
 * per process, one round a minute, with injected incidents and their labels; and the writing of
 * it into a real Portent database through the stores the monitor uses (RoundStore for the scan,
 * CaptureStore for the capture report, one ResolvedNames shared by both), in the monitor's order:
 * each round's scan, then the capture report of the minute before it.
 *
 * The same seed and number of days give the same rounds and labels on the same machine (days are
 * local days, so the time zone matters, as it does for the people whose machines these are).
 */
export interface TrafficOptions {
  seed: number;
  days: number;
  /** Local midnight of a Monday (default 2 February 2026). */
  start?: number;
  /** Incidents of each kind (default 4); 0 for a week without any. */
  perKind?: number;
  /** Packet rows kept per round (the capture's default, 150). */
  maxPackets?: number;
}

export interface TrafficSimulation {
  seed: number;
  days: number;
  start: number;
  end: number;
  /** The end of the learning day: no incident starts before it. */
  learningEnd: number;
  roundCount: number;
  plans: readonly DayPlan[];
  incidents: Incident[];
  /** The rounds in time order, built one at a time; every call starts again from the first. */
  rounds(): Generator<SimRound, void, undefined>;
}

export const DEFAULT_START = new Date(2026, 1, 2).getTime();

export function simulateTraffic(o: TrafficOptions): TrafficSimulation {
  const start = o.start ?? DEFAULT_START;
  const end = dayStartOf(start, o.days);
  const roundCount = Math.round((end - start) / MINUTE);
  const draw = (part: string) => Draw.stream(o.seed, part);
  const net = new Internet(new AddressPool(draw('addresses')), draw('internet'));
  const tr = new Traffic(draw('ports'));
  const pids = new Pids(draw('pids'));
  const plans = planDays(start, o.days, draw('days'));
  legitimateWeek(tr, net, draw, pids, { start, end, plans });
  const roundOf = (t: number) => Math.min(roundCount - 1, Math.max(0, Math.floor((t - start) / MINUTE) + 1));
  const incidents = injectIncidents({ tr, net, draw: draw('incidents'), pids, start, days: o.days, perKind: o.perKind ?? 4, roundOf });
  tr.transactions.push(...resolve(tr.lookups, net, draw('resolver')));
  finalize(tr);
  return {
    seed: o.seed,
    days: o.days,
    start,
    end,
    learningEnd: Math.min(end, start + DAY),
    roundCount,
    plans,
    incidents,
    rounds: () => roundsOf(tr, { start, rounds: roundCount, listeners: listeners(), draw: draw('sample'), maxPackets: o.maxPackets }),
  };
}

export interface Written {
  rounds: number;
  /** The database id of each round, by index. */
  roundIds: number[];
  connections: number;
  flows: number;
  dnsMessages: number;
  writeMs: number;
}

/** Writes every round into `db` as the monitor would, capture on. */
export function writeTraffic(db: Db, sim: TrafficSimulation, onRound?: (r: SimRound, roundId: number) => void): Written {
  const names = new ResolvedNames();
  const store = new RoundStore(db, names);
  const capture = new CaptureStore(db, names);
  let previous: ConnectionEntry[] = [];
  const out: Written = { rounds: 0, roundIds: [], connections: 0, flows: 0, dnsMessages: 0, writeMs: 0 };
  const t0 = performance.now();
  for (const r of sim.rounds()) {
    const id = store.record({ host: HOST, startedAt: r.startedAt, endedAt: r.startedAt + 3, outcome: r.snapshot });
    capture.record(id, { state: 'on', iface: IFACE, report: r.report }, { current: r.snapshot.connected, previous });
    previous = r.snapshot.connected;
    onRound?.(r, id);
    out.rounds++;
    out.roundIds.push(id);
    out.connections += r.snapshot.connected.length;
    out.flows += r.report.flows.flows.length;
    out.dnsMessages += r.report.dns.length;
  }
  out.writeMs = performance.now() - t0;
  return out;
}

/** What the harness reads: the run's parameters and the incidents, as JSON. */
export interface Labels {
  seed: number;
  days: number;
  start: number;
  end: number;
  learningEnd: number;
  rounds: number;
  incidents: Incident[];
}

export const labelsOf = (sim: TrafficSimulation): Labels => ({ seed: sim.seed, days: sim.days, start: sim.start, end: sim.end, learningEnd: sim.learningEnd, rounds: sim.roundCount, incidents: sim.incidents });

export function writeLabels(file: string, labels: Labels): void {
  fs.writeFileSync(file, `${JSON.stringify(labels, null, 1)}\n`);
}

export function readLabels(file: string): Labels {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Labels;
}
