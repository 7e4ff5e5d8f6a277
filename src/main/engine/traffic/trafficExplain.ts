import { formatBytes } from '../../../shared/reportFormat';
import type { TrafficFeature } from './featureVector';
import { MODEL_FEATURES, type DETECTOR_FEATURES } from './processContext';

const MODEL_INDEX = new Map(MODEL_FEATURES.map((n, i) => [n, i]));
import type { TrafficEndpoint, TrafficRow } from './trafficRow';
import type { IncidentEndpointRow, IncidentFeatureRow, TrafficKind } from '../store/trafficStore';

/**
 * What a traffic incident is about and the sentence the tray shows, from the features that drove
 * the window's score (their shares of the gradient of its reconstruction error) and the facts of
 * the window (remote ends, names, periods, bytes). docs/detection.md, "Traffic incidents".
 */

/** Which features speak for which kind of incident. */
const KIND_FEATURES: Record<Exclude<TrafficKind, 'unusual-traffic'>, (TrafficFeature | (typeof DETECTOR_FEATURES)[number])[]> = {
  scan: ['closed_port_attempts', 'max_ports_one_source', 'inbound_attempts'],
  'dns-tunnel': ['dns_lookups', 'dns_names', 'dns_failed', 'dns_label_mean', 'dns_label_max', 'dns_entropy_mean', 'dns_entropy_max'],
  beacon: ['periodicity', 'recent_periodicity'],
  'volume-out': ['bytes_out', 'bytes_out_recent', 'recent_bytes_above_usual', 'packets_out', 'out_share'],
  'new-destination': ['new_for_process', 'new_for_process_share', 'new_anywhere', 'rare_remote_port_share', 'endpoints', 'opened', 'sockets', 'remote_ports', 'remote_port_entropy', 'duration_mean', 'duration_max', 'half_open', 'failed_attempts'],
};

/** Least summed share for a kind to be named; below it the incident is "unusual traffic". */
const KIND_MIN_SHARE = 0.25;

/**
 * The kind whose features carry the largest part of the explanation. A beacon to a host never
 * seen is both new and periodic: periodicity is the rarer, more specific finding, so it wins
 * when it carries at least half as much as the new-destination features.
 */
export function classify(shares: Float32Array | readonly number[]): TrafficKind {
  const sum = (names: string[]) => names.reduce((a, n) => a + (shares[MODEL_INDEX.get(n) ?? -1] ?? 0), 0);
  const totals = Object.entries(KIND_FEATURES).map(([kind, names]) => ({ kind: kind as TrafficKind, share: sum(names) }));
  totals.sort((a, b) => b.share - a.share);
  const best = totals[0]!;
  const beacon = totals.find((t) => t.kind === 'beacon')!;
  if (best.kind === 'new-destination' && beacon.share >= KIND_MIN_SHARE / 2 && beacon.share >= best.share / 2) return 'beacon';
  return best.share >= KIND_MIN_SHARE ? best.kind : 'unusual-traffic';
}

/** The features an incident keeps: those with at least 5 % of the gradient, at most eight, largest first. */
export function drivingFeatures(shares: Float32Array, values: Float32Array, expected: Float32Array, names: readonly string[] = MODEL_FEATURES): IncidentFeatureRow[] {
  return names.map((feature, i) => ({ feature, share: shares[i]!, value: values[i]!, expected: expected[i]! }))
    .filter((f) => f.share >= 0.05)
    .sort((a, b) => b.share - a.share)
    .slice(0, 8);
}

/** The endpoints an incident names, the most telling first: new ones, then periodic, then by bytes out. */
export function telling(row: TrafficRow, kind: TrafficKind, max = 16): TrafficEndpoint[] {
  const rank = (e: TrafficEndpoint) =>
    (e.newForProcess ? 4 : 0) + (e.newAnywhere ? 2 : 0) + (kind === 'beacon' ? e.periodicity.score * (e.recentForProcess ? 6 : 4) : 0) + (kind === 'volume-out' ? Math.log1p(e.bytesOut) / 4 : 0) + Math.log1p(e.opened) / 10;
  return [...row.endpoints].sort((a, b) => rank(b) - rank(a)).slice(0, max);
}

export function endpointRow(e: TrafficEndpoint): IncidentEndpointRow {
  return {
    proto: e.proto, address: e.address, port: e.port, direction: e.direction, name: e.name, newForProcess: e.newForProcess, newAnywhere: e.newAnywhere,
    firstSeenAt: e.firstSeenByProcessAt ?? e.firstSeenAt, heldSince: e.heldSince, opened: e.opened, bytesOut: e.bytesOut, bytesIn: e.bytesIn,
    periodMs: e.periodicity.score > 0 && e.periodicity.periodMs ? Math.round(e.periodicity.periodMs) : null,
  };
}

/** The remote addresses that probed this host, as endpoints a scan incident names (most ports first). */
export function probeRows(row: TrafficRow): IncidentEndpointRow[] {
  return [...row.probes]
    .sort((a, b) => b.localPorts - a.localPorts)
    .slice(0, 4)
    .map((p) => ({
      proto: 'tcp', address: p.remoteAddress, port: 0, direction: 'in' as const, name: null, newForProcess: false, newAnywhere: false, firstSeenAt: null, heldSince: null,
      opened: p.localPorts, bytesOut: 0, bytesIn: 0, periodMs: null,
    }));
}

/**
 * The names a DNS-tunnel incident names: the zone the lookups shared (or the most looked-up
 * names), through the resolver the process asked (its port 53 endpoint, when the table saw it).
 */
export function dnsZoneRows(row: TrafficRow): IncidentEndpointRow[] {
  const resolver = row.endpoints.find((e) => e.port === 53);
  const zone = commonZone(row.dnsNames.map((d) => d.name));
  const names = zone ? [zone] : [...row.dnsNames].sort((a, b) => b.lookups - a.lookups).slice(0, 3).map((d) => d.name);
  return names.map((name) => ({
    proto: resolver?.proto ?? 'udp', address: resolver?.address ?? '', port: 53, direction: 'out' as const, name, newForProcess: false, newAnywhere: false, firstSeenAt: null, heldSince: null,
    opened: row.dnsNames.reduce((a, d) => a + d.lookups, 0), bytesOut: 0, bytesIn: 0, periodMs: null,
  }));
}

function clock(t: number): string {
  const d = new Date(t);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function hostOf(e: Pick<TrafficEndpoint, 'address' | 'port' | 'name' | 'direction'>): string {
  const addr = e.address.includes(':') ? `[${e.address}]` : e.address;
  const where = e.direction === 'out' && e.port > 0 ? `${addr}:${e.port}` : addr;
  return e.name ? `${e.name} (${where})` : where;
}

function list(items: readonly string[], more: number): string {
  const all = more > 0 ? [...items, `${more} more`] : [...items];
  if (all.length <= 1) return all[0] ?? '';
  return `${all.slice(0, -1).join(', ')} and ${all.at(-1)}`;
}

/** Who: "python3 (pid 4121)", the executable when there is no name, or the host itself. */
export function whoOf(row: Pick<TrafficRow, 'process' | 'pids'>): string {
  if (!row.process) return 'Traffic no program on this machine owns';
  const name = row.process.name ?? row.process.exe ?? 'an unknown program';
  const pids = row.pids.length === 0 ? '' : row.pids.length === 1 ? ` (pid ${row.pids[0]})` : ` (pids ${row.pids.slice(0, 3).join(', ')}${row.pids.length > 3 ? ', …' : ''})`;
  return `${name}${pids}`;
}

/**
 * The sentence a user reads in the tray. `since`: when the incident began (its first window).
 * For example: "python3 (pid 4121) opened connections to 203.0.113.7:4444, a host it never
 * talked to before, every 60 s since 14:02."
 */
export function trafficSentence(kind: TrafficKind, row: TrafficRow, since: number, features: readonly IncidentFeatureRow[]): string {
  const who = whoOf(row);
  const eps = telling(row, kind, 3);
  const more = Math.max(0, row.endpoints.length + row.endpointsOmitted - eps.length);
  const fresh = eps.filter((e) => e.newForProcess);
  const never = fresh.length === 0 ? '' : fresh.length === 1 ? `, a host it never talked to before${fresh[0]!.newAnywhere ? ' (nor did any program here)' : ''}` : ', hosts it never talked to before';
  const at = ` since ${clock(since)}`;
  switch (kind) {
    case 'scan': {
      const probe = [...row.probes].sort((a, b) => b.localPorts - a.localPorts)[0];
      if (probe) return `${probe.remoteAddress} probed ${probe.localPorts} ports of this machine (${probe.closedPorts} with nothing listening)${at}.`;
      return `${who}: connection attempts to many ports of this machine${at}.`;
    }
    case 'dns-tunnel': {
      if (row.dnsNames.length === 0) return trafficSentence('unusual-traffic', row, since, features);
      // A tunnel carries its data in many names under one zone: name that zone and count its names
      // alone, not every name the row also looked up (the host-wide row holds everyone's).
      const zone = busiestZone(row.dnsNames.map((d) => d.name));
      const carried = zone ? row.dnsNames.filter((d) => d.name.endsWith(`.${zone}`)) : row.dnsNames;
      const lookups = carried.reduce((a, d) => a + d.lookups, 0);
      const failed = carried.reduce((a, d) => a + d.failed, 0);
      const fails = failed > 0 ? ` (${failed} failed)` : '';
      if (carried.length === 1) return `${who} made ${lookups} DNS ${lookups === 1 ? 'lookup' : 'lookups'} of ${carried[0]!.name}, unlike its usual${fails}${at}.`;
      const under = zone ?? commonZone(carried.map((d) => d.name));
      return `${who} made ${lookups} DNS lookups of ${carried.length} long, random-looking names${under ? ` under ${under}` : ''}${fails}${at}.`;
    }
    case 'beacon': {
      // The rhythm of a host it began talking to within the hour before an old one's (a poll it always had).
      const beat = (x: TrafficEndpoint) => x.periodicity.score + (x.recentForProcess && x.periodicity.score > 0 ? 1 : 0);
      const e = [...eps].sort((a, b) => beat(b) - beat(a))[0];
      if (e && e.periodicity.periodMs) {
        const s = Math.round(e.periodicity.periodMs / 1000);
        const period = s >= 120 ? `${Math.round(s / 60)} min` : `${s} s`;
        return `${who} opened connections to ${hostOf(e)}${e.newForProcess ? never.replace(/^, hosts/, ', a host') : ''} every ${period}${at}.`;
      }
      return `${who} connects to ${list(eps.map(hostOf), more)} at a regular beat${never}${at}.`;
    }
    case 'volume-out': {
      const out = row.endpoints.reduce((a, e) => a + e.bytesOut, 0);
      return `${who} sent ${formatBytes(out)} to ${list(eps.map(hostOf), more)}${never}, far more than it usually sends${at}.`;
    }
    case 'new-destination': {
      // One connection kept open (a shell), not a span of repeated short check-ins.
      const held = eps.find((e) => e.heldSince !== null && e.newForProcess && e.opened <= 1);
      const holding = held ? `, holding the connection open since ${clock(held.heldSince!)}` : at;
      return `${who} talked to ${list(eps.map(hostOf), more)}${never}${holding}.`;
    }
    default: {
      const top = features.slice(0, 3).map((f) => f.feature.replace(/_/g, ' '));
      return `${who}'s traffic is unlike its usual (${top.join(', ')})${eps.length ? `, with ${list(eps.map(hostOf), more)}` : ''}${at}.`;
    }
  }
}

/**
 * The zone (a suffix of whole labels, at least two long, shorter than the name) under which most
 * of the names sit, when at least two do; among zones holding as many, the longest.
 */
export function busiestZone(names: readonly string[]): string | null {
  const counts = new Map<string, number>();
  for (const n of new Set(names.map((x) => x.toLowerCase().replace(/\.$/, '')))) {
    const labels = n.split('.');
    for (let i = 1; i <= labels.length - 2; i++) {
      const zone = labels.slice(i).join('.');
      counts.set(zone, (counts.get(zone) ?? 0) + 1);
    }
  }
  let best: string | null = null;
  let most = 1;
  for (const [zone, n] of counts) if (n > most || (n === most && best !== null && zone.length > best.length)) [best, most] = [zone, n];
  return best;
}

/** The longest common suffix of whole labels of the names, at least two labels long ("t.example.net"). */
export function commonZone(names: readonly string[]): string | null {
  if (names.length === 0) return null;
  const split = names.map((n) => n.toLowerCase().replace(/\.$/, '').split('.').reverse());
  const common: string[] = [];
  for (let i = 0; ; i++) {
    const label = split[0]![i];
    if (label === undefined || !split.every((s) => s[i] === label)) break;
    common.push(label);
  }
  return common.length >= 2 ? common.reverse().join('.') : null;
}
