/**
 * How the traffic model puts each window feature on its input scale of 0 to 1, and back. The
 * engine scales windows with it (engine/traffic/featureVector.ts); the window and `anomalies`
 * read an incident's driving features back in units with it ("3.2 MB seen, 40 KB expected"),
 * where the stored values are on the model's scale.
 *
 * Counts as log1p(count) / log1p(cap), so that 1 and 10 differ as much as 10 and 100 and a flood
 * saturates at 1; ratios as value / cap; shares and scores as they are. The caps are where "more"
 * stops mattering to a desktop's model: a thousand sockets or endpoints in a window, 100 GB, a
 * week of holding a connection, every port number for a scan.
 */
import { formatBytes } from './reportFormat';

/** What a feature counts, for reading it back. 'score': a value of 0 to 1 that has no unit of its own. */
export type FeatureUnit = 'count' | 'bytes' | 'packets' | 'seconds' | 'share' | 'score' | 'characters' | 'bits' | 'windows';

export interface FeatureScale {
  form: 'log' | 'ratio' | 'share';
  /** The raw value at which the scaled one reaches 1 (1 for a share). */
  cap: number;
  unit: FeatureUnit;
}

/** Largest alphabet a DNS label uses in practice: a-z, 0-9, '-' and '_'. */
const DNS_ALPHABET_BITS = Math.log2(38);
const WEEK_S = 7 * 24 * 3600;

const log = (cap: number, unit: FeatureUnit): FeatureScale => ({ form: 'log', cap, unit });
const ratio = (cap: number, unit: FeatureUnit): FeatureScale => ({ form: 'ratio', cap, unit });
const share = (unit: 'share' | 'score'): FeatureScale => ({ form: 'share', cap: 1, unit });

/** The window's own features (engine: TRAFFIC_FEATURES), by name. */
export const TRAFFIC_SCALES = {
  host: share('score'),
  capture: share('score'),
  sockets: log(1024, 'count'),
  opened: log(1024, 'count'),
  endpoints: log(1024, 'count'),
  accepted_peers: log(1024, 'count'),
  new_for_process: log(256, 'count'),
  new_for_process_share: share('share'),
  new_anywhere: log(256, 'count'),
  remote_ports: log(1024, 'count'),
  // Bits; 8 bits is 256 ports used evenly.
  remote_port_entropy: ratio(8, 'bits'),
  half_open: log(256, 'count'),
  duration_mean: log(WEEK_S, 'seconds'),
  duration_max: log(WEEK_S, 'seconds'),
  periodicity: share('score'),
  bytes_out: log(1e11, 'bytes'),
  bytes_in: log(1e11, 'bytes'),
  packets_out: log(1e8, 'packets'),
  packets_in: log(1e8, 'packets'),
  out_share: share('share'),
  failed_attempts: log(1024, 'count'),
  inbound_attempts: log(1024, 'count'),
  dns_lookups: log(4096, 'count'),
  dns_names: log(1024, 'count'),
  dns_failed: log(1024, 'count'),
  // Characters; DNS allows 63 in a label.
  dns_label_mean: ratio(63, 'characters'),
  dns_label_max: ratio(63, 'characters'),
  dns_entropy_mean: ratio(DNS_ALPHABET_BITS, 'bits'),
  dns_entropy_max: ratio(DNS_ALPHABET_BITS, 'bits'),
  closed_port_attempts: log(65_536, 'count'),
  max_ports_one_source: log(65_536, 'count'),
  bytes_out_recent: log(1e11, 'bytes'),
  recent_periodicity: share('score'),
} as const satisfies Record<string, FeatureScale>;

/** A raw value on the model's scale. */
export function scaleFeature(s: FeatureScale, x: number): number {
  if (s.form === 'log') return Math.min(1, Math.log1p(Math.max(0, x)) / Math.log1p(s.cap));
  if (s.form === 'ratio') return Math.min(1, Math.max(0, x / s.cap));
  return Math.min(1, Math.max(0, x));
}

/** A value on the model's scale back in its units, within 0 and the cap (a reconstruction may stray outside). */
export function unscaleFeature(s: FeatureScale, v: number): number {
  const x = Math.min(1, Math.max(0, v));
  if (s.form === 'log') return Math.expm1(x * Math.log1p(s.cap));
  return x * s.cap;
}

/**
 * The scale of any feature an incident can name: the window's own; a process's usual value of
 * one of them (`usual_<feature>`, a mean on the same scale); how long the program has been seen
 * (`seen_windows`, windows up to an hour's six); how rare its remote ports are here (a share).
 * Undefined for the rest (`recent_bytes_above_usual` is a score of its own).
 */
export function featureScale(feature: string): FeatureScale | undefined {
  if (feature in TRAFFIC_SCALES) return TRAFFIC_SCALES[feature as keyof typeof TRAFFIC_SCALES];
  if (feature.startsWith('usual_')) return featureScale(feature.slice('usual_'.length));
  if (feature === 'seen_windows') return ratio(6, 'windows');
  if (feature === 'rare_remote_port_share') return share('share');
  return undefined;
}

function seconds(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${(s / 3600).toFixed(1).replace(/\.0$/, '')} h`;
  return `${(s / 86_400).toFixed(1).replace(/\.0$/, '')} days`;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * A feature's value (seen, or the model's expected one) in units: "3.2 MB", counts as whole
 * numbers, "40 %", "3.1 bits". A feature of no known scale reads on the model's scale ("0.20").
 */
export function featureAmount(feature: string, value: number): string {
  if (!Number.isFinite(value)) return '–';
  const s = featureScale(feature);
  if (!s || s.unit === 'score') return value.toFixed(2);
  const x = unscaleFeature(s, value);
  switch (s.unit) {
    case 'bytes':
      return formatBytes(Math.round(x));
    case 'packets':
      return plural(Math.round(x), 'packet', 'packets');
    case 'seconds':
      return seconds(x);
    case 'share':
      return `${Math.round(x * 100)} %`;
    case 'characters':
      return plural(Math.round(x), 'character', 'characters');
    case 'bits':
      return `${x.toFixed(1)} bits`;
    case 'windows':
      return plural(Math.round(x), 'window', 'windows');
    default:
      return String(Math.round(x));
  }
}
