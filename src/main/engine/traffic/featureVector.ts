/**
 * The traffic model's input: one fixed-length vector per (process, window of rounds), in the
 * order of TRAFFIC_FEATURES, which never changes within a schema of the model (a saved model is
 * checked against it). docs/detection.md, "Traffic features", says why each one is there.
 *
 * Values are scaled for an autoencoder: counts as log1p(count) / log1p(cap), so that 1 and 10
 * differ as much as 10 and 100 and a flood saturates at 1; shares and scores as they are, in
 * [0, 1]. The unscaled values travel beside them for explanations ("50× its usual volume").
 */

export const TRAFFIC_FEATURES = [
  'host',
  'capture',
  'sockets',
  'opened',
  'endpoints',
  'accepted_peers',
  'new_for_process',
  'new_for_process_share',
  'new_anywhere',
  'remote_ports',
  'remote_port_entropy',
  'half_open',
  'duration_mean',
  'duration_max',
  'periodicity',
  'bytes_out',
  'bytes_in',
  'packets_out',
  'packets_in',
  'out_share',
  'failed_attempts',
  'inbound_attempts',
  'dns_lookups',
  'dns_names',
  'dns_failed',
  'dns_label_mean',
  'dns_label_max',
  'dns_entropy_mean',
  'dns_entropy_max',
  'closed_port_attempts',
  'max_ports_one_source',
  'bytes_out_recent',
  'recent_periodicity',
] as const;

export type TrafficFeature = (typeof TRAFFIC_FEATURES)[number];
export const TRAFFIC_FEATURE_COUNT = TRAFFIC_FEATURES.length;

/** Position of each feature in the vector. */
export const FEATURE_INDEX = Object.fromEntries(TRAFFIC_FEATURES.map((name, i) => [name, i])) as Record<TrafficFeature, number>;

/** Unscaled values of one row, by feature: counts, bytes, seconds, bits, characters, shares. */
export type RawTraffic = Record<TrafficFeature, number>;

export function emptyRaw(): RawTraffic {
  return Object.fromEntries(TRAFFIC_FEATURES.map((name) => [name, 0])) as RawTraffic;
}

/** Largest alphabet a DNS label uses in practice: a-z, 0-9, '-' and '_'. */
const DNS_ALPHABET_BITS = Math.log2(38);
const WEEK_S = 7 * 24 * 3600;

const logCap = (cap: number) => (x: number) => Math.min(1, Math.log1p(Math.max(0, x)) / Math.log1p(cap));
const share = (x: number) => Math.min(1, Math.max(0, x));
const ratio = (cap: number) => (x: number) => Math.min(1, Math.max(0, x / cap));

/**
 * How each raw value becomes an input in [0, 1]. The caps are where "more" stops mattering to a
 * desktop's model: a thousand sockets or endpoints in a window, 100 GB, a week of holding a
 * connection, every port number for a scan.
 */
const SCALE: Record<TrafficFeature, (x: number) => number> = {
  host: share,
  capture: share,
  sockets: logCap(1024),
  opened: logCap(1024),
  endpoints: logCap(1024),
  accepted_peers: logCap(1024),
  new_for_process: logCap(256),
  new_for_process_share: share,
  new_anywhere: logCap(256),
  remote_ports: logCap(1024),
  // Bits; 8 bits is 256 ports used evenly.
  remote_port_entropy: ratio(8),
  half_open: logCap(256),
  duration_mean: logCap(WEEK_S),
  duration_max: logCap(WEEK_S),
  periodicity: share,
  bytes_out: logCap(1e11),
  bytes_in: logCap(1e11),
  packets_out: logCap(1e8),
  packets_in: logCap(1e8),
  out_share: share,
  failed_attempts: logCap(1024),
  inbound_attempts: logCap(1024),
  dns_lookups: logCap(4096),
  dns_names: logCap(1024),
  dns_failed: logCap(1024),
  // Characters; DNS allows 63 in a label.
  dns_label_mean: ratio(63),
  dns_label_max: ratio(63),
  dns_entropy_mean: ratio(DNS_ALPHABET_BITS),
  dns_entropy_max: ratio(DNS_ALPHABET_BITS),
  closed_port_attempts: logCap(65_536),
  max_ports_one_source: logCap(65_536),
  bytes_out_recent: logCap(1e11),
  recent_periodicity: share,
};

/** The scaled vector of a row, in TRAFFIC_FEATURES order. */
export function scaleTraffic(raw: RawTraffic): Float32Array {
  const out = new Float32Array(TRAFFIC_FEATURE_COUNT);
  TRAFFIC_FEATURES.forEach((name, i) => {
    const v = raw[name];
    out[i] = Number.isFinite(v) ? SCALE[name](v) : 0;
  });
  return out;
}

/** The raw values in TRAFFIC_FEATURES order. */
export function rawVector(raw: RawTraffic): Float64Array {
  return Float64Array.from(TRAFFIC_FEATURES, (name) => raw[name]);
}
