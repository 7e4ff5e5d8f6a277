import type { Db } from './database';
import { checkSetting, defaultSettings, isSettingKey, SETTING_KEYS, type SettingKey, type Settings } from '../../../shared/settings';
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

/**
 * Settings as stored in the database: only the keys the user changed have rows. A row that no
 * longer passes the schema (edited by hand, or left by a newer Portent) is ignored with a warning
 * and the default applies; it is not deleted, so nothing the user wrote is lost.
 */
export class SettingsStore {
  constructor(
    private readonly db: Db,
    private readonly log?: Logger,
  ) {}

  all(): Settings {
    const settings = defaultSettings() as Record<SettingKey, unknown>;
    for (const row of this.db.prepare('SELECT key, value, updated_at FROM settings').all() as Row[]) {
      if (!isSettingKey(row.key)) continue; // a newer Portent's setting: kept, not understood
      let parsed: unknown;
      try {
        parsed = JSON.parse(row.value);
      } catch {
        this.log?.warn('stored setting is not JSON; using its default', { key: row.key });
        continue;
      }
      const check = checkSetting(row.key, parsed);
      if (check.ok) settings[row.key] = check.value;
      else this.log?.warn('stored setting is not valid; using its default', { key: row.key, error: check.error });
    }
    return settings as Settings;
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
