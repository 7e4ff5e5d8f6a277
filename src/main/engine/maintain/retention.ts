import { checkSetting, type SettingKey, type Settings } from '../../../shared/settings';

/**
 * What the daily cleanup keeps, decided without a database or a clock so that the rules are
 * tested on their own. Only per-round detail ages out: rounds, their scores, incidents and the
 * model history are kept, because incidents and scores point at rounds.
 */

const DAY_MS = 86_400_000;
const MEGABYTE = 1024 * 1024;

const RETENTION_KEYS = ['retention.roundPortsDays', 'retention.packetsDays', 'retention.flowsDays', 'retention.reportsDays', 'retention.maxDatabaseMb'] as const;

/** The settings a cleanup reads; a whole `Settings` object fits. */
export type RetentionSettings = Pick<Settings, (typeof RETENTION_KEYS)[number]>;

/** Rows older than these times (epoch ms, exclusive) are removed. */
export interface RetentionCutoffs {
  /** Sockets of rounds that started before this. */
  roundPorts: number;
  /** Packets whose `ts` is before this. */
  packets: number;
  /** Flows whose `first_ts` is before this. */
  flows: number;
  /** Daily report files whose period ended before this. */
  reports: number;
}

function checked<K extends SettingKey>(key: K, value: unknown): Settings[K] {
  const check = checkSetting(key, value);
  if (!check.ok) throw new RangeError(check.error);
  return check.value;
}

/**
 * Validates the retention settings with the shared schema, so a value that reached the engine by
 * another road than the settings store is refused with the same message `config set` gives.
 */
export function checkRetention(settings: RetentionSettings): RetentionSettings {
  if (settings === null || typeof settings !== 'object') throw new TypeError('retention settings are missing');
  return Object.fromEntries(RETENTION_KEYS.map((k) => [k, checked(k, settings[k])])) as RetentionSettings;
}

/**
 * The cut-off time per table. A day is 24 hours here, not a calendar day: across a daylight
 * saving change a row may stay an hour more or less, which nobody can notice in a week of data.
 */
export function retentionCutoffs(settings: RetentionSettings, now: number): RetentionCutoffs {
  if (!Number.isFinite(now)) throw new RangeError(`the time to measure retention from must be a finite epoch time in ms; got ${String(now)}`);
  const s = checkRetention(settings);
  return {
    roundPorts: now - s['retention.roundPortsDays'] * DAY_MS,
    packets: now - s['retention.packetsDays'] * DAY_MS,
    flows: now - s['retention.flowsDays'] * DAY_MS,
    reports: now - s['retention.reportsDays'] * DAY_MS,
  };
}

/** The size cap in bytes (a megabyte is 2^20 bytes), or null when there is no cap. */
export function sizeCapBytes(maxDatabaseMb: number): number | null {
  const mb = checked('retention.maxDatabaseMb', maxDatabaseMb);
  return mb === 0 ? null : mb * MEGABYTE;
}

/**
 * The node-cron expression (seconds first) for the cleanup at `cleanupAt` ("HH:MM") local time
 * every day. node-cron reads it in the process's time zone, which is what the user typed. On a
 * day when a daylight saving change skips that time there may be no run; the next one removes
 * two days' worth, in the same batches.
 */
export function cleanupSchedule(cleanupAt: string): string {
  const [hours, minutes] = checked('schedule.cleanupAt', cleanupAt).split(':').map(Number);
  return `0 ${minutes} ${hours} * * *`;
}
