import type { IncidentEndpoint, IncidentKind, TrafficKind } from '../../shared/contract';

/**
 * Words for what the traffic model stores under its own names: the features that drove an
 * incident, its kind, and the facts of a remote end. Pure, so the window and its tests share it.
 */

/** The traffic model's window features (docs/detection.md, "Traffic features"), in plain words. */
const FEATURE_LABELS: Record<string, string> = {
  host: 'traffic no program owns',
  capture: 'packet capture on',
  sockets: 'sockets open',
  opened: 'connections opened',
  endpoints: 'remote ends talked to',
  accepted_peers: 'peers that connected in',
  new_for_process: 'hosts new to this program',
  new_for_process_share: 'share of hosts new to this program',
  new_anywhere: 'hosts new to every program',
  remote_ports: 'remote ports used',
  remote_port_entropy: 'spread of remote ports',
  rare_remote_port_share: 'connections on ports rare here',
  half_open: 'half-open connections',
  duration_mean: 'typical connection length',
  duration_max: 'longest connection',
  periodicity: 'regular beat (beaconing)',
  bytes_out: 'bytes sent',
  bytes_out_recent: 'bytes sent to hosts first reached within the hour',
  recent_bytes_above_usual: 'bytes sent to newly reached hosts, against its own usual',
  bytes_in: 'bytes received',
  packets_out: 'packets sent',
  packets_in: 'packets received',
  out_share: 'share of bytes that went out',
  failed_attempts: 'failed connection attempts',
  inbound_attempts: 'connection attempts from outside',
  dns_lookups: 'DNS lookups',
  dns_names: 'distinct DNS names',
  dns_failed: 'failed DNS lookups',
  dns_label_mean: 'length of DNS names',
  dns_label_max: 'longest DNS label',
  dns_entropy_mean: 'randomness of DNS names (typical)',
  dns_entropy_max: 'randomness of DNS names',
  closed_port_attempts: 'attempts on closed ports',
  max_ports_one_source: 'ports one address tried here',
  seen_windows: 'how long this program has been seen',
};

/** The process's habits (usual_<feature>), where "its usual" + the feature's label reads badly. */
const USUAL_LABELS: Record<string, string> = {
  periodicity: 'its usual regularity',
  new_for_process_share: 'its usual share of new hosts',
};

/** A feature's name in words; a name this map does not know reads with its underscores as spaces. */
export function featureLabel(feature: string): string {
  const known = FEATURE_LABELS[feature];
  if (known) return known;
  if (feature.startsWith('usual_')) {
    const of = feature.slice('usual_'.length);
    return USUAL_LABELS[of] ?? `its usual ${featureLabel(of)}`;
  }
  return feature.replace(/_/g, ' ');
}

const TRAFFIC_KIND_LABELS: Record<TrafficKind, string> = {
  'new-destination': 'new destination',
  beacon: 'beaconing',
  'volume-out': 'unusual volume sent',
  scan: 'scan of this machine',
  'dns-tunnel': 'DNS tunnelling-like lookups',
  'unusual-traffic': 'unusual traffic',
};

export function trafficKindLabel(kind: TrafficKind | null): string {
  return TRAFFIC_KIND_LABELS[kind ?? 'unusual-traffic'];
}

/** The small label an incident's row carries: nothing for a port incident (the usual kind). */
export function incidentKindTag(kind: IncidentKind): string | null {
  return kind === 'traffic' ? 'traffic' : kind === 'both' ? 'ports and traffic' : null;
}

/** "c2.example (203.0.113.7:4444)", "[2001:db8::1]:443", "198.51.100.4" (a prober, no one port). */
export function endpointAddress(e: Pick<IncidentEndpoint, 'address' | 'port'>): string {
  if (e.address === '') return e.port > 0 ? `resolver not seen, port ${e.port}` : 'address not seen';
  const addr = e.address.includes(':') ? `[${e.address}]` : e.address;
  return e.port > 0 ? `${addr}:${e.port}` : addr;
}

/** Whether a remote end was new, and to whom. */
export function novelty(e: Pick<IncidentEndpoint, 'newForProcess' | 'newAnywhere'>): string {
  if (e.newAnywhere) return 'new for every program';
  if (e.newForProcess) return 'new for this program';
  return 'seen before';
}

/** A beat: "every 60 s", "every 2.5 s", "every 5 min". */
export function periodLabel(ms: number): string {
  if (ms < 10_000) return `every ${(ms / 1000).toFixed(1).replace(/\.0$/, '')} s`;
  if (ms < 120_000) return `every ${Math.round(ms / 1000)} s`;
  return `every ${Math.round(ms / 60_000)} min`;
}
