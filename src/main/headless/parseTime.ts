import { UsageError } from './command';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Reads a `--since` value: a duration back from now (`90m`, `6h`, `7d`, `2w`), an ISO date or
 * date-time (`2026-11-20`, `2026-11-20T15:00`, local time unless it says otherwise), or epoch
 * milliseconds. Returns epoch milliseconds.
 */
export function parseSince(value: string, now: number = Date.now()): number {
  const text = value.trim();
  const relative = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(text);
  if (relative) return now - Number(relative[1]) * UNITS[relative[2]!.toLowerCase()]!;
  if (/^\d{12,}$/.test(text)) return Number(text);
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    // A bare date means local midnight, as a person reading the history would mean it.
    const parsed = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00` : text);
    if (!Number.isNaN(parsed)) return parsed;
  }
  throw new UsageError(`cannot read time '${value}': use a duration such as 90m, 6h, 7d, or a date such as 2026-11-20 or 2026-11-20T15:00`);
}
