import { scaleFeature, TRAFFIC_SCALES, type FeatureScale } from '../../../shared/trafficScale';

/**
 * The traffic model's input: one fixed-length vector per (process, window of rounds), in the
 * order of TRAFFIC_FEATURES, which never changes within a schema of the model (a saved model is
 * checked against it). docs/detection.md, "Traffic features", says why each one is there.
 *
 * Values are scaled to [0, 1] for an autoencoder (shared/trafficScale.ts says how, and reads
 * them back); the unscaled values travel beside them for explanations ("50× its usual volume").
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

/** How each raw value becomes an input in [0, 1] (shared/trafficScale.ts, where the window reads them back). */
const SCALE: Record<TrafficFeature, FeatureScale> = TRAFFIC_SCALES;

/** The scaled vector of a row, in TRAFFIC_FEATURES order. */
export function scaleTraffic(raw: RawTraffic): Float32Array {
  const out = new Float32Array(TRAFFIC_FEATURE_COUNT);
  TRAFFIC_FEATURES.forEach((name, i) => {
    const v = raw[name];
    out[i] = Number.isFinite(v) ? scaleFeature(SCALE[name], v) : 0;
  });
  return out;
}

/** The raw values in TRAFFIC_FEATURES order. */
export function rawVector(raw: RawTraffic): Float64Array {
  return Float64Array.from(TRAFFIC_FEATURES, (name) => raw[name]);
}
