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
const CLOCK_MESSAGE = 'must be a time of day as HH:MM (24-hour)';
const SMTP_HOST_MESSAGE = 'must be a host name or IP address of an SMTP server, like 127.0.0.1 or mail.example.net, or "" for no e-mail';
const MAILBOX = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$/;
const MAIL_FROM_MESSAGE = 'must be one e-mail address, like portent@example.net, or "" for the user name at the SMTP host';
const MAIL_TO_MESSAGE = 'must be e-mail addresses separated by commas, like ops@example.net, admin@example.net, or "" for none';

/** What a secret setting shows wherever it is displayed: it is set, never what it is. */
export const SECRET_MASK = '********';

/** A list of e-mail addresses typed as "a@x, b@y", as the addresses; null when one is not an address. */
export function mailAddresses(text: string): string[] | null {
  const list = text.split(',').map((a) => a.trim()).filter((a) => a !== '');
  return list.every((a) => MAILBOX.test(a)) ? list : null;
}

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
  'capture.bufferMb': {
    // The capture helper accepts up to 256 MiB.
    schema: wholeNumber(1, 256, 'megabytes'),
    default: 32,
    summary: 'Kernel buffer the capture is read from, resident while capture is on; a smaller one saves memory and loses packets in shorter bursts',
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
  'retention.reportsDays': {
    schema: wholeNumber(1, 3650, 'days'),
    default: 90,
    summary: 'Days the daily reports (HTML and JSON files in the reports folder) are kept',
  },
  'schedule.cleanupAt': {
    schema: z.string({ error: CLOCK_MESSAGE }).regex(CLOCK_TIME, { error: CLOCK_MESSAGE }),
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
  'report.enabled': {
    schema: boolean(),
    default: true,
    summary: 'Build a daily report of the last 24 hours at report.dailyAt (a missed time is made up at the next start)',
  },
  'report.dailyAt': {
    schema: z.string({ error: CLOCK_MESSAGE }).regex(CLOCK_TIME, { error: CLOCK_MESSAGE }),
    default: '09:00',
    summary: 'Local time the daily report is built, covering the 24 hours before it',
  },
  'report.smtp.host': {
    schema: z
      .string({ error: SMTP_HOST_MESSAGE })
      .refine((s) => s === '' || /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})$/.test(s), { error: SMTP_HOST_MESSAGE }),
    default: '',
    summary: 'SMTP server the daily report is e-mailed through; empty: no e-mail',
  },
  'report.smtp.port': {
    schema: wholeNumber(1, 65535, 'port'),
    default: 587,
    summary: 'Port of the SMTP server (587 for STARTTLS, 465 for TLS, 25 for none)',
  },
  'report.smtp.tls': {
    schema: z.enum(['starttls', 'tls', 'none'], { error: 'must be starttls, tls or none' }),
    default: 'starttls',
    summary: 'starttls: upgrade the connection and refuse a server that cannot; tls: TLS from the start; none: plain text (a server on this machine only)',
  },
  'report.smtp.user': {
    schema: z.string({ error: 'must be a user name, or "" for a server that needs none' }).max(256, { error: 'must be at most 256 characters' }),
    default: '',
    summary: 'User name for the SMTP server; empty: no login',
  },
  'report.smtp.password': {
    schema: z.string({ error: 'must be a password' }).max(1024, { error: 'must be at most 1024 characters' }),
    default: '',
    summary: 'Password for the SMTP server; never logged, and shown masked',
    secret: true,
  },
  'report.smtp.from': {
    schema: z.string({ error: MAIL_FROM_MESSAGE }).refine((s) => s === '' || MAILBOX.test(s), { error: MAIL_FROM_MESSAGE }),
    default: '',
    summary: 'Sender address of the report e-mail; empty: the SMTP user',
  },
  'report.smtp.to': {
    schema: z.string({ error: MAIL_TO_MESSAGE }).max(2048, { error: 'must be at most 2048 characters' }).refine((s) => mailAddresses(s) !== null, { error: MAIL_TO_MESSAGE }),
    default: '',
    summary: 'Where the daily report is e-mailed, comma-separated; empty: no e-mail',
  },
} as const satisfies Record<string, { schema: z.ZodType; default: unknown; summary: string; secret?: true }>;

export type SettingKey = keyof typeof SETTINGS;
export type Settings = { -readonly [K in SettingKey]: z.infer<(typeof SETTINGS)[K]['schema']> };
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

export function isSettingKey(value: unknown): value is SettingKey {
  return typeof value === 'string' && Object.hasOwn(SETTINGS, value);
}

/** Whether a setting's value is never shown or logged (the SMTP password). */
export function isSecretSetting(key: SettingKey): boolean {
  return 'secret' in SETTINGS[key];
}

/** A value as it may be shown: a secret that is set becomes SECRET_MASK. */
export function shownSetting(key: SettingKey, value: unknown): unknown {
  return isSecretSetting(key) && value !== '' && value !== undefined && value !== null ? SECRET_MASK : value;
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
  const got = isSecretSetting(key) ? 'the value is not shown' : `got ${describe(value)}`;
  return { ok: false, error: `${key} ${parsed.error.issues[0]?.message ?? 'is not valid'}; ${got}` };
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
