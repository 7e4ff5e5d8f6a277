import { z } from 'zod';

/**
 * Every setting of Portent: its schema, default and a sentence on what it does. This one table
 * validates `portent config set`, the window's settings form and the values stored in the
 * database; the engine reads nothing else. Each schema carries its own message naming the
 * allowed values, so a rejection reads the same wherever it happens.
 */

function wholeNumber(min: number, max: number, unit: string) {
  const message = `must be a whole number of ${unit} from ${min} to ${max}`;
  return z.number({ error: message }).int({ error: message }).min(min, { error: message }).max(max, { error: message });
}

function boolean() {
  return z.boolean({ error: 'must be true or false' });
}

const IFACE_NAME = /^[A-Za-z0-9_.:@-]{1,64}$/;
const CLOCK_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
/** Minutes between detections: a divisor of a day, so that the schedule repeats daily. */
export const DETECT_EVERY_MINUTES = [10, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440] as const;

const SYSLOG_MESSAGE = 'must be udp://, tcp:// or tls:// with a host and port, like tcp://127.0.0.1:514, or "" for off';
const OTLP_MESSAGE = 'must be an http:// or https:// URL of an OTLP/HTTP logs endpoint, like http://127.0.0.1:4318/v1/logs, or "" for off';
const LISTEN_MESSAGE = 'must be an IP address and a port, like 127.0.0.1:9464 or [::1]:9464';

/** `host:port` (an IPv4 address, or an IPv6 one in brackets) as a host and a port, or null. */
export function listenAddress(text: string): { host: string; port: number } | null {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  const host = m[1] ?? m[2]!;
  if (m[2] && m[2].split('.').some((o) => Number(o) > 255)) return null;
  if (m[1] && !m[1].includes(':')) return null;
  return { host, port };
}

export const SETTINGS = {
  'capture.enabled': {
    schema: boolean(),
    default: true,
    summary: 'Record packet headers and flows beside each round',
  },
  'capture.interface': {
    schema: z
      .string({ error: 'must be an interface name (see `portent interfaces`), or "" for the default route\'s' })
      .refine((s) => s === '' || IFACE_NAME.test(s), { error: 'must be an interface name (see `portent interfaces`), or "" for the default route\'s' }),
    default: '',
    summary: 'Interface to capture on; empty for the interface of the default route',
  },
  'capture.filter': {
    schema: z.string({ error: 'must be a BPF filter expression (empty for all traffic)' }).max(1024, { error: 'must be at most 1024 characters' }),
    default: '',
    summary: 'BPF filter applied by the kernel before Portent sees a packet',
  },
  'capture.packetsPerRound': {
    schema: wholeNumber(0, 100_000, 'packets'),
    default: 150,
    summary: 'Packet header rows kept per round (flows are always exact); ~50 MB a day at the default',
  },
  'retention.roundPortsDays': {
    schema: wholeNumber(1, 3650, 'days'),
    default: 30,
    summary: 'Days of per-round port occupancy kept',
  },
  'retention.packetsDays': {
    schema: wholeNumber(1, 3650, 'days'),
    default: 7,
    summary: 'Days of packet header rows kept',
  },
  'retention.flowsDays': {
    schema: wholeNumber(1, 3650, 'days'),
    default: 30,
    summary: 'Days of flow aggregates kept',
  },
  'retention.maxDatabaseMb': {
    schema: wholeNumber(0, 1_000_000, 'megabytes (0 for no cap)').refine((n) => n === 0 || n >= 50, {
      error: 'must be 0 (no cap) or at least 50 megabytes',
    }),
    default: 2048,
    summary: 'Size cap of the database; the oldest packets, then flows, go first (0: no cap)',
  },
  'schedule.cleanupAt': {
    schema: z.string({ error: 'must be a time of day as HH:MM (24-hour)' }).regex(CLOCK_TIME, { error: 'must be a time of day as HH:MM (24-hour)' }),
    default: '03:30',
    summary: 'Local time of the daily cleanup',
  },
  'schedule.detectEveryMinutes': {
    schema: z
      .number({ error: `must be one of ${DETECT_EVERY_MINUTES.join(', ')} (minutes)` })
      .refine((n) => (DETECT_EVERY_MINUTES as readonly number[]).includes(n), { error: `must be one of ${DETECT_EVERY_MINUTES.join(', ')} (minutes)` }),
    default: 60,
    summary: 'Minutes between scheduled detections',
  },
  'detection.learningHours': {
    schema: wholeNumber(1, 720, 'hours'),
    default: 6,
    summary: 'Hours of rounds the model trains on before it may alert',
  },
  'detection.sensitivity': {
    schema: z.enum(['low', 'normal', 'high'], { error: 'must be low, normal or high' }),
    default: 'normal',
    summary: 'How readily a round is called anomalous (low: fewer alerts)',
  },
  'detection.alertsPerDay': {
    schema: z
      .number({ error: 'must be a number of false alarms a day from 0.1 to 24' })
      .min(0.1, { error: 'must be a number of false alarms a day from 0.1 to 24' })
      .max(24, { error: 'must be a number of false alarms a day from 0.1 to 24' }),
    default: 1,
    summary: 'False-alarm budget the threshold is calibrated to (about this many a day at most)',
  },
  'notifications.enabled': {
    schema: boolean(),
    default: true,
    summary: 'Show a desktop notification for each new incident',
  },
  'notifications.maxPerHour': {
    schema: wholeNumber(1, 60, 'notifications'),
    default: 4,
    summary: 'Most notifications shown in an hour; the rest are counted in the tray',
  },
  'actions.stopGraceSeconds': {
    schema: wholeNumber(1, 60, 'seconds'),
    default: 5,
    summary: 'Seconds a process stopped from an incident has to exit after SIGTERM before it is sent SIGKILL',
  },
  'actions.rootMayStopOthers': {
    schema: boolean(),
    default: false,
    summary: "When the monitor runs as root, whether stopping an incident's process may signal another user's process (otherwise only the monitor's own user's)",
  },
  'syslog.target': {
    schema: z
      .string({ error: SYSLOG_MESSAGE })
      .refine((s) => s === '' || /^(udp|tcp|tls):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(s), { error: SYSLOG_MESSAGE }),
    default: '',
    summary: 'Send every incident event to a syslog receiver (RFC 5424), like tcp://logs.example.net:514; empty: off; read at start',
  },
  'syslog.caFile': {
    schema: z.string({ error: 'must be the path of a PEM file of certificate authorities, or "" for the system\'s' }).max(4096),
    default: '',
    summary: 'Certificate authorities that sign a tls:// syslog receiver\'s certificate; empty: the system\'s',
  },
  'otlp.endpoint': {
    schema: z
      .string({ error: OTLP_MESSAGE })
      .refine((s) => s === '' || /^https?:\/\/[^\s]+$/.test(s), { error: OTLP_MESSAGE }),
    default: '',
    summary: 'Send every incident event to an OpenTelemetry Collector as OTLP/HTTP logs, like http://127.0.0.1:4318/v1/logs; empty: off; read at start',
  },
  'metrics.enabled': {
    schema: boolean(),
    default: false,
    summary: 'Serve Prometheus metrics at /metrics on metrics.listen, with their own bearer token (docs/fleet.md); read at start',
  },
  'metrics.listen': {
    schema: z
      .string({ error: LISTEN_MESSAGE })
      .refine((s) => listenAddress(s) !== null, { error: LISTEN_MESSAGE }),
    default: '127.0.0.1:9464',
    summary: 'Address and port the metrics endpoint listens on (127.0.0.1 keeps it to this machine); read at start',
  },
} as const satisfies Record<string, { schema: z.ZodType; default: unknown; summary: string }>;

export type SettingKey = keyof typeof SETTINGS;
export type Settings = { -readonly [K in SettingKey]: z.infer<(typeof SETTINGS)[K]['schema']> };
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

export function isSettingKey(value: unknown): value is SettingKey {
  return typeof value === 'string' && Object.hasOwn(SETTINGS, value);
}

export function defaultSettings(): Settings {
  return Object.fromEntries(SETTING_KEYS.map((k) => [k, SETTINGS[k].default])) as Settings;
}

/** The multipliers behind `detection.sensitivity`: the threshold is divided by this. */
export const SENSITIVITY_FACTOR: Record<Settings['detection.sensitivity'], number> = { low: 0.8, normal: 1, high: 1.25 };

export type SettingCheck<K extends SettingKey> = { ok: true; value: Settings[K] } | { ok: false; error: string };

/** Validates one value for one setting; the error names the setting and what it allows. */
export function checkSetting<K extends SettingKey>(key: K, value: unknown): SettingCheck<K> {
  const parsed = SETTINGS[key].schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data as Settings[K] };
  return { ok: false, error: `${key} ${parsed.error.issues[0]?.message ?? 'is not valid'}; got ${describe(value)}` };
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value);
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value);
  return json.length > 60 ? json.slice(0, 57) + '...' : json;
}

/**
 * A value typed on a command line, read by the setting's type: `true`/`false` for switches,
 * numbers for numbers, the text itself for text. Text that is not valid for the type is passed
 * through unchanged so the schema's message explains what is wanted.
 */
export function settingFromText(key: SettingKey, text: string): unknown {
  const fallback = SETTINGS[key].default;
  if (typeof fallback === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  if (typeof fallback === 'number') {
    const n = Number(text);
    return text.trim() !== '' && Number.isFinite(n) ? n : text;
  }
  return text;
}
