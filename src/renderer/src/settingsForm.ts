import { DETECT_EVERY_MINUTES, SETTING_KEYS, SETTINGS, settingFromText, type SettingKey } from '../../shared/settings';

/**
 * How each setting is edited, derived from the shared table so that a new setting shows up in
 * the window with the right input and no change here.
 */
export type InputKind = { kind: 'switch' } | { kind: 'number'; step: number } | { kind: 'choice'; options: readonly string[] } | { kind: 'text' };

const GROUP_TITLES: Record<string, string> = {
  capture: 'Packet capture',
  retention: 'Retention',
  schedule: 'Schedule',
  detection: 'Detection',
  notifications: 'Notifications',
  syslog: 'Syslog',
  otlp: 'OpenTelemetry',
  metrics: 'Metrics for Prometheus',
};

export interface SettingGroup {
  prefix: string;
  title: string;
  keys: SettingKey[];
}

/** Settings grouped by the part of their key before the first dot, in table order. */
export function groupSettings(keys: readonly SettingKey[] = SETTING_KEYS): SettingGroup[] {
  const groups = new Map<string, SettingGroup>();
  for (const key of keys) {
    const prefix = key.split('.')[0]!;
    let group = groups.get(prefix);
    if (!group) {
      group = { prefix, title: GROUP_TITLES[prefix] ?? prefix, keys: [] };
      groups.set(prefix, group);
    }
    group.keys.push(key);
  }
  return [...groups.values()];
}

function enumOptions(key: SettingKey): readonly string[] | null {
  const schema = SETTINGS[key].schema as unknown as { options?: unknown };
  return Array.isArray(schema.options) && schema.options.every((o) => typeof o === 'string') ? (schema.options as string[]) : null;
}

export function inputKind(key: SettingKey): InputKind {
  if (key === 'schedule.detectEveryMinutes') return { kind: 'choice', options: DETECT_EVERY_MINUTES.map(String) };
  const fallback = SETTINGS[key].default;
  if (typeof fallback === 'boolean') return { kind: 'switch' };
  if (typeof fallback === 'number') return { kind: 'number', step: Number.isInteger(fallback) ? 1 : 0.1 };
  const options = enumOptions(key);
  return options ? { kind: 'choice', options } : { kind: 'text' };
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

/** The last part of a key, spaced out: "detection.alertsPerDay" reads "alerts per day". */
export function labelOf(key: SettingKey): string {
  const last = key.split('.').pop() ?? key;
  return last.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}
