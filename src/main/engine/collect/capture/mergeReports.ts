/**
 * Joins consecutive interval reports into one. Normally each round gets exactly one report; a
 * report that arrives late (the capture process busy in a flood) is folded into the next
 * round's, so nothing is counted twice or lost, and flows stay one row per key per round.
 */
import type { CaptureReport } from './captureSummary';
import { flowKey, type Flow } from './flows';
import { isDnsRecord, isPriorityRecord, type PacketRecord } from './packetSample';

/** `reports` in the order they were produced; the packet sample stays within `maxPackets`, DNS and SYN first. */
export function mergeReports(reports: readonly CaptureReport[], maxPackets: number): CaptureReport {
  const [first, ...rest] = reports;
  if (!first) throw new RangeError('mergeReports needs at least one report');
  if (rest.length === 0) return first;
  const flows = new Map<string, Flow>();
  const merged: CaptureReport = {
    from: first.from,
    to: first.to,
    flows: { flows: [], unattributed: { packets: 0, bytes: 0 }, overflow: { packets: 0, bytes: 0 } },
    dns: [],
    dnsOverflow: 0,
    malformed: {},
    sample: { packets: [], seen: 0, dns: 0, dnsDropped: 0 },
    malformedCount: 0,
    counters: first.counters,
  };
  const priority: PacketRecord[] = [];
  const other: PacketRecord[] = [];
  for (const r of reports) {
    merged.to = r.to;
    // Totals are the latest; kernel drops are per report, so they add up.
    if (r !== first) merged.counters = { ...r.counters, kernelDrops: sumDrops(merged.counters.kernelDrops, r.counters.kernelDrops) };
    for (const f of r.flows.flows) {
      const k = flowKey(f);
      const had = flows.get(k);
      if (!had) {
        flows.set(k, { ...f });
        continue;
      }
      had.packets += f.packets;
      had.bytes += f.bytes;
      had.firstTs = Math.min(had.firstTs, f.firstTs);
      had.lastTs = Math.max(had.lastTs, f.lastTs);
      had.tcpFlags |= f.tcpFlags;
    }
    for (const t of ['unattributed', 'overflow'] as const) {
      merged.flows[t].packets += r.flows[t].packets;
      merged.flows[t].bytes += r.flows[t].bytes;
    }
    merged.dns.push(...r.dns);
    merged.dnsOverflow += r.dnsOverflow;
    for (const [reason, n] of Object.entries(r.malformed)) {
      const k = reason as keyof CaptureReport['malformed'];
      merged.malformed[k] = (merged.malformed[k] ?? 0) + (n ?? 0);
    }
    merged.malformedCount += r.malformedCount;
    merged.sample.seen += r.sample.seen;
    merged.sample.dns += r.sample.dns;
    merged.sample.dnsDropped += r.sample.dnsDropped;
    for (const p of r.sample.packets) (isPriorityRecord(p) ? priority : other).push(p);
  }
  merged.flows.flows = [...flows.values()];
  const keptPriority = priority.slice(0, maxPackets);
  const kept = keptPriority.concat(other.slice(0, maxPackets - keptPriority.length));
  merged.sample.dnsDropped += priority.slice(maxPackets).filter(isDnsRecord).length;
  merged.sample.packets = kept.sort((a, b) => a.ts - b.ts);
  return merged;
}

const sumDrops = (a: number | null, b: number | null): number | null => (a === null && b === null ? null : (a ?? 0) + (b ?? 0));
