import type { Db } from './database';
import { checkSetting, defaultSettings, isSecretSetting, isSettingKey, SECRET_MASK, SETTING_KEYS, SETTINGS, type SettingKey, type Settings } from '../../../shared/settings';
import type { Logger } from '../log';

/** A value rejected by the settings schema; the message names the setting and what it allows. */
export class SettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingError';
  }
}

interface Row {
  key: string;
  value: string;
  updated_at: number;
}

/** A stored value the schema refuses: what is stored, why it is refused, and what is used instead. */
export interface SettingProblem {
  key: SettingKey;
  /** The row's text as stored (shortened when long). */
  stored: string;
  /** Why it is refused and that the default applies, in a sentence that names the setting. */
  reason: string;
}

/**
 * Checks a value against this machine, where the shared schema cannot look (it runs in the
 * window too): null when the value may be stored, else why not.
 */
export type MachineCheck = (key: SettingKey, value: unknown) => string | null;

const shown = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value) : String(value));

function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The stored row read by the schema: its value, or why it cannot be used. */
function readRow(key: SettingKey, text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  const fallback = `the default, ${shown(SETTINGS[key].default)}, is used in its place`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: `${key} holds ${isSecretSetting(key) ? 'a value' : JSON.stringify(shorten(text))}, which is not a value Portent can read; ${fallback}` };
  }
  const check = checkSetting(key, parsed);
  return check.ok ? { ok: true, value: check.value } : { ok: false, reason: `${check.error}; ${fallback}` };
}

/**
 * Settings as stored in the database: only the keys the user changed have rows. A row that no
 * longer passes the schema (edited by hand, or left by a newer Portent) is ignored with a warning
 * and the default applies; it is not deleted, so nothing the user wrote is lost.
 */
export class SettingsStore {
  constructor(
    private readonly db: Db,
    private readonly log?: Logger,
    /** Run by `set` after the schema; the CLI and the engine pass the capture interface check. */
    private readonly machineCheck?: MachineCheck,
  ) {}

  all(): Settings {
    const settings = defaultSettings() as Record<SettingKey, unknown>;
    for (const row of this.rows()) {
      const read = readRow(row.key, row.value);
      if (read.ok) settings[row.key] = read.value;
      else this.log?.warn('stored setting is not valid; using its default', { key: row.key, error: read.reason });
    }
    return settings as Settings;
  }

  /** Stored values that cannot be used, each with why; their defaults apply meanwhile. */
  problems(): SettingProblem[] {
    const problems: SettingProblem[] = [];
    for (const row of this.rows()) {
      const read = readRow(row.key, row.value);
      if (!read.ok) problems.push({ key: row.key, stored: isSecretSetting(row.key) ? SECRET_MASK : shorten(row.value), reason: read.reason });
    }
    return problems;
  }

  // A newer Portent's settings are kept, not understood.
  private rows(): (Row & { key: SettingKey })[] {
    return (this.db.prepare('SELECT key, value, updated_at FROM settings ORDER BY key').all() as Row[]).filter((r): r is Row & { key: SettingKey } => isSettingKey(r.key));
  }

  get<K extends SettingKey>(key: K): Settings[K] {
    return this.all()[key];
  }

  /** Keys the user has set, with when; the rest are at their defaults. */
  changed(): Map<SettingKey, number> {
    const rows = this.db.prepare('SELECT key, updated_at FROM settings').all() as Row[];
    return new Map(rows.filter((r) => isSettingKey(r.key)).map((r) => [r.key as SettingKey, r.updated_at]));
  }

  /**
   * Validates and stores one value. A rejected value throws SettingError and leaves the stored
   * value as it was.
   */
  set<K extends SettingKey>(key: string, value: unknown, now = Date.now()): Settings[K] {
    if (!isSettingKey(key)) throw new SettingError(`unknown setting '${key}'. Settings: ${SETTING_KEYS.join(', ')}`);
    const check = checkSetting(key, value);
    if (!check.ok) throw new SettingError(check.error);
    const refusal = this.machineCheck?.(key, check.value);
    if (refusal) throw new SettingError(refusal);
    this.db
      .prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at')
      .run(key, JSON.stringify(check.value), now);
    return check.value as Settings[K];
  }

  /** Back to the default: the row goes. */
  reset(key: string): void {
    if (!isSettingKey(key)) throw new SettingError(`unknown setting '${key}'. Settings: ${SETTING_KEYS.join(', ')}`);
    this.db.prepare('DELETE FROM settings WHERE key = ?').run(key);
  }

  /** Changes whenever a stored setting does, so a running monitor notices `config set`. */
  fingerprint(): string {
    return JSON.stringify(this.db.prepare('SELECT key, value FROM settings ORDER BY key').raw().all());
  }
}
