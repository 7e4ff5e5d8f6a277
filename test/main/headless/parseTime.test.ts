import { describe, expect, it } from 'vitest';
import { parseSince } from '../../../src/main/headless/parseTime';
import { formatTable } from '../../../src/main/headless/table';

const NOW = Date.UTC(2026, 10, 22, 12, 0);

describe('parseSince', () => {
  it('reads durations back from now', () => {
    expect(parseSince('90m', NOW)).toBe(NOW - 90 * 60_000);
    expect(parseSince('6h', NOW)).toBe(NOW - 6 * 3_600_000);
    expect(parseSince('7d', NOW)).toBe(NOW - 7 * 86_400_000);
    expect(parseSince('1.5h', NOW)).toBe(NOW - 5_400_000);
  });

  it('reads dates, date-times and epoch milliseconds', () => {
    expect(parseSince('2026-11-20T15:00Z', NOW)).toBe(Date.UTC(2026, 10, 20, 15, 0));
    expect(parseSince('2026-11-20', NOW)).toBe(new Date(2026, 10, 20).getTime());
    expect(parseSince('1763640000000', NOW)).toBe(1763640000000);
  });

  it('refuses what it cannot read, saying what it accepts', () => {
    for (const bad of ['yesterday', '5 parsecs', '2026-13-45', '', '12']) {
      expect(() => parseSince(bad, NOW)).toThrow(/cannot read time .*use a duration such as 90m/);
    }
  });
});

describe('formatTable', () => {
  it('aligns columns and shows missing values as a dash', () => {
    expect(formatTable(['A', 'LONGER'], [['x', null], ['wide value', 3]])).toBe('A           LONGER\nx           -\nwide value  3\n');
  });
});
