import { checkSetting, DETECT_EVERY_MINUTES, isSecretSetting, SETTING_KEYS, SETTINGS, settingFromText, type SettingKey } from '../../shared/settings';

/**
 * How the window presents each setting: in words for the person changing it, in a group, with
 * its unit and an input that fits. Validation stays with the shared schema; this file only says
 * how a setting reads and is edited.
 */

export const GROUP_TITLES = ['Alerts', 'Capture', 'History and storage', 'Detection', 'Daily report', 'Stopping a process', 'Sending incidents elsewhere'] as const;
export type GroupTitle = (typeof GROUP_TITLES)[number];

interface SettingText {
  group: GroupTitle;
  /** Reads as the start of a sentence the input and its unit finish: "Keep port history for" 30 "days". */
  label: string;
  unit?: string;
  help: string;
}

// A setting added to the shared table without words here does not compile.
const TEXT: { [K in SettingKey]: SettingText } = {
  'notifications.enabled': { group: 'Alerts', label: 'Show a desktop notification for each new incident', help: 'Incidents are recorded whether or not this is on.' },
  'notifications.maxPerHour': {
    group: 'Alerts',
    label: 'Show at most',
    unit: 'notifications an hour',
    help: 'Past this, further incidents are counted on the tray icon instead of popping up.',
  },
  'detection.sensitivity': { group: 'Alerts', label: 'Sensitivity', help: 'How readily an unusual round becomes an incident. Low gives fewer alerts; high catches more, with more false alarms.' },
  'detection.alertsPerDay': {
    group: 'Alerts',
    label: 'Allow about',
    unit: 'false alarms a day',
    help: 'The alert threshold is set so that normal activity raises no more than this. From 0.1 to 24.',
  },
  'capture.enabled': {
    group: 'Capture',
    label: 'Record network traffic',
    help: 'Keeps packet headers and a summary of every connection beside each round of open ports. Needs capture rights (see the overview).',
  },
  'capture.interface': {
    group: 'Capture',
    label: 'Capture on',
    help: 'The network interface to watch. The default follows the interface your traffic leaves by.',
  },
  'capture.filter': {
    group: 'Capture',
    label: 'Only record traffic matching',
    help: 'A packet filter in tcpdump syntax, such as "not port 22"; leave empty to record all traffic.',
  },
  'capture.packetsPerRound': {
    group: 'Capture',
    label: 'Keep up to',
    unit: 'packet headers a round',
    help: 'Connections are always counted in full; this only limits the sample of individual packets. About 50 MB a day at 150.',
  },
  'capture.bufferMb': {
    group: 'Capture',
    label: 'Capture buffer',
    unit: 'MB',
    help: 'Memory the system sets aside for packets not yet read: 32 MB holds about 250,000 small packets. A smaller buffer saves that much memory but loses packets in bursts sooner.',
  },
  'retention.roundPortsDays': { group: 'History and storage', label: 'Keep port history for', unit: 'days', help: 'Which ports were open, when, and by which program.' },
  'retention.flowsDays': { group: 'History and storage', label: 'Keep connection history for', unit: 'days', help: 'Who talked to whom, how much and how often.' },
  'retention.packetsDays': { group: 'History and storage', label: 'Keep packet headers for', unit: 'days', help: 'The sampled packets, the bulkiest part of the history.' },
  'retention.maxDatabaseMb': {
    group: 'History and storage',
    label: 'Limit the database to',
    unit: 'MB',
    help: 'When it grows past this, the oldest packet headers go first, then the oldest connections. 0 means no limit; otherwise at least 50.',
  },
  'retention.reportsDays': { group: 'History and storage', label: 'Keep daily reports for', unit: 'days', help: 'The HTML and JSON files of each daily report, in the reports folder.' },
  'schedule.cleanupAt': { group: 'History and storage', label: 'Clean up old history every day at', help: 'Local time. Pick an hour when the computer is usually on.' },
  'detection.learningHours': {
    group: 'Detection',
    label: 'Learn what is normal for',
    unit: 'hours',
    help: 'Hours of monitoring the model studies before it may raise an alert.',
  },
  'schedule.detectEveryMinutes': { group: 'Detection', label: 'Look for anomalies every', help: 'The model also learns from new history each time.' },
  'report.enabled': { group: 'Daily report', label: 'Build a daily report', help: 'Once a day: incidents, new listeners and talkers, the busiest programs, and how capture and the model fared. One quiet notification says it is ready.' },
  'report.dailyAt': { group: 'Daily report', label: 'Build it every day at', help: 'Local time; the report covers the 24 hours before it. A time missed while the computer was off or asleep is made up at the next start.' },
  'report.smtp.host': { group: 'Daily report', label: 'E-mail it through the SMTP server', help: 'Host name or address, such as mail.example.net. Empty: no e-mail.' },
  'report.smtp.port': { group: 'Daily report', label: 'SMTP port', help: '587 for STARTTLS, 465 for TLS.' },
  'report.smtp.tls': { group: 'Daily report', label: 'SMTP encryption', help: 'starttls and tls refuse to send in clear; none only suits a server on this computer.' },
  'report.smtp.user': { group: 'Daily report', label: 'SMTP user', help: 'Empty for a server that needs no login.' },
  'report.smtp.password': { group: 'Daily report', label: 'SMTP password', help: 'Stored in Portent\'s database, never logged or shown again.' },
  'report.smtp.from': { group: 'Daily report', label: 'Send it from', help: 'One address; empty uses the SMTP user.' },
  'report.smtp.to': { group: 'Daily report', label: 'Send it to', help: 'Addresses separated by commas. Empty: no e-mail.' },
  'actions.stopGraceSeconds': {
    group: 'Stopping a process',
    label: "When stopping an incident's process, wait",
    unit: 'seconds',
    help: 'A stopped process is asked to exit (SIGTERM) and forced (SIGKILL) if it is still running after this long.',
  },
  'actions.rootMayStopOthers': {
    group: 'Stopping a process',
    label: "Let a monitor running as root stop other users' processes",
    help: 'Off: Portent stops only processes of the user it runs as, whoever that is.',
  },
  'syslog.target': {
    group: 'Sending incidents elsewhere',
    label: 'Syslog receiver',
    help: 'Sends every incident to a syslog server, as udp://, tcp:// or tls:// with host and port, such as tcp://127.0.0.1:514. Empty: off. Takes effect at the next start.',
  },
  'syslog.caFile': {
    group: 'Sending incidents elsewhere',
    label: 'Certificate authorities for tls:// syslog',
    help: "Path of a PEM file; empty uses the system's.",
  },
  'otlp.endpoint': {
    group: 'Sending incidents elsewhere',
    label: 'OpenTelemetry logs endpoint',
    help: 'Sends every incident to an OpenTelemetry Collector, such as http://127.0.0.1:4318/v1/logs. Empty: off. Takes effect at the next start.',
  },
  'metrics.enabled': { group: 'Sending incidents elsewhere', label: 'Serve metrics for Prometheus', help: 'At /metrics, with a token of their own. Takes effect at the next start.' },
  'metrics.listen': {
    group: 'Sending incidents elsewhere',
    label: 'Serve metrics at',
    help: 'An address and port, such as 127.0.0.1:9464 (only this computer can reach it). Takes effect at the next start.',
  },
};

export interface SettingGroup {
  title: GroupTitle;
  keys: SettingKey[];
}

/** The settings in their groups, groups in GROUP_TITLES order, settings in the order above. */
export function groupSettings(keys: readonly SettingKey[] = SETTING_KEYS): SettingGroup[] {
  const order = Object.keys(TEXT) as SettingKey[];
  const sorted = [...keys].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return GROUP_TITLES.map((title) => ({ title, keys: sorted.filter((k) => TEXT[k].group === title) })).filter((g) => g.keys.length > 0);
}

export function labelOf(key: SettingKey): string {
  return TEXT[key].label;
}

export function unitOf(key: SettingKey): string | null {
  return TEXT[key].unit ?? null;
}

export function helpOf(key: SettingKey): string {
  return TEXT[key].help;
}

export interface ChoiceOption {
  value: string;
  label: string;
}

/** How each setting is edited. */
export type InputKind =
  | { kind: 'switch' }
  | { kind: 'number'; step: number }
  | { kind: 'choice'; options: ChoiceOption[] }
  | { kind: 'time' }
  | { kind: 'interface' }
  | { kind: 'secret' }
  | { kind: 'text' };

const CHOICE_LABELS: Record<string, string> = {
  low: 'Low: fewer alerts',
  normal: 'Normal',
  high: 'High: more alerts',
  starttls: 'STARTTLS: upgrade the connection, or do not send',
  tls: 'TLS from the start',
  none: 'None: only for a server on this computer',
};

/** 90 → "1 hour 30 minutes" style, for the detection schedule's choices. */
export function minutesLabel(minutes: number): string {
  if (minutes % 1440 === 0) return minutes === 1440 ? '1 day' : `${minutes / 1440} days`;
  if (minutes % 60 === 0) return minutes === 60 ? '1 hour' : `${minutes / 60} hours`;
  return `${minutes} minutes`;
}

function enumOptions(key: SettingKey): readonly string[] | null {
  const schema = SETTINGS[key].schema as unknown as { options?: unknown };
  return Array.isArray(schema.options) && schema.options.every((o) => typeof o === 'string') ? (schema.options as string[]) : null;
}

export function inputKind(key: SettingKey): InputKind {
  if (key === 'schedule.detectEveryMinutes') return { kind: 'choice', options: DETECT_EVERY_MINUTES.map((m) => ({ value: String(m), label: minutesLabel(m) })) };
  if (key === 'schedule.cleanupAt' || key === 'report.dailyAt') return { kind: 'time' };
  if (isSecretSetting(key)) return { kind: 'secret' };
  if (key === 'capture.interface') return { kind: 'interface' };
  const fallback = SETTINGS[key].default;
  if (typeof fallback === 'boolean') return { kind: 'switch' };
  // Fractions where the schema takes them (a budget of 0.5 alarms a day), whole steps elsewhere.
  if (typeof fallback === 'number') return { kind: 'number', step: checkSetting(key, fallback + 0.5).ok ? 0.1 : 1 };
  const options = enumOptions(key);
  return options ? { kind: 'choice', options: options.map((o) => ({ value: o, label: CHOICE_LABELS[o] ?? o })) } : { kind: 'text' };
}

/** What an input holds, as text, for the value the engine reported. */
export function textOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : String(value);
}

/** The value to check and send for what the user typed or picked. */
export function valueFromInput(key: SettingKey, text: string): unknown {
  return settingFromText(key, text);
}

/** A default in words, with its unit: "30 days", "on", "empty". */
export function defaultText(key: SettingKey): string {
  const fallback = SETTINGS[key].default;
  if (typeof fallback === 'boolean') return fallback ? 'on' : 'off';
  if (key === 'schedule.detectEveryMinutes') return minutesLabel(fallback as number);
  if (key === 'capture.interface' && fallback === '') return "the default route's interface";
  const text = textOf(fallback);
  if (text === '') return 'empty';
  const unit = unitOf(key);
  return unit ? `${text} ${unit}` : text;
}

export interface InterfaceOption extends ChoiceOption {
  /** Not among the interfaces this machine has (a stored value from elsewhere). */
  missing: boolean;
}

/**
 * The interface choices: the default route's first (an empty value), then each interface the
 * engine reports, with its addresses; a current value the machine lacks is kept and marked.
 */
export function interfaceOptions(current: string, list: { names: { name: string; addresses: string[]; loopback: boolean }[]; default: string | null }): InterfaceOption[] {
  const options: InterfaceOption[] = [{ value: '', label: list.default ? `Default: the default route's (${list.default})` : "Default: the default route's", missing: false }];
  for (const i of list.names) {
    const about = i.loopback ? 'this computer only' : i.addresses.slice(0, 2).join(', ');
    options.push({ value: i.name, label: about ? `${i.name} (${about})` : i.name, missing: false });
  }
  if (current !== '' && !list.names.some((i) => i.name === current)) options.push({ value: current, label: `${current} (not on this machine)`, missing: true });
  return options;
}
