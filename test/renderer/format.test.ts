import { describe, expect, it } from 'vitest';
import { count, directionLabel, formatBytes, formatDuration, formatPercent, formatRelative, formatScore, messageOf, portLabel, scoreComparison } from '../../src/renderer/src/format';

describe('formatting', () => {
  it('compares a peak score with its threshold in words', () => {
    expect(scoreComparison(14.2, 9)).toBe('Its most unusual round scored 14.2 against a threshold of 9: 1.6 times the highest score the model still takes for normal.');
    expect(scoreComparison(0.93, 0.042)).toBe('Its most unusual round scored 0.93 against a threshold of 0.042: 22 times the highest score the model still takes for normal.');
    expect(scoreComparison(0.5, 0)).toBe('Its most unusual round scored 0.5 against a threshold of 0.');
    expect(scoreComparison(14.2, 9, 'window')).toBe('Its most unusual window of traffic scored 14.2 against a threshold of 9: 1.6 times the highest score the model still takes for normal.');
  });

  it('gives durations in at most two units', () => {
    expect(formatDuration(0)).toBe('0 ms');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_400)).toBe('12 s');
    expect(formatDuration(245_000)).toBe('4 min 5 s');
    expect(formatDuration(3 * 3_600_000 + 20 * 60_000 + 5000)).toBe('3 h 20 min');
    expect(formatDuration(2 * 86_400_000 + 4 * 3_600_000)).toBe('2 d 4 h');
    expect(formatDuration(3_600_000)).toBe('1 h');
  });

  it('says how long ago, or how long until', () => {
    const now = 1_000_000_000;
    expect(formatRelative(now - 3000, now)).toBe('just now');
    expect(formatRelative(now - 5 * 60_000, now)).toBe('5 min ago');
    expect(formatRelative(now + 20 * 60_000, now)).toBe('in 20 min');
    expect(formatRelative(now - 3 * 86_400_000, now)).toBe('3 d ago');
  });

  it('formats sizes, shares and scores', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(200 * 1024 * 1024)).toBe('200 MB');
    expect(formatPercent(0.4242)).toBe('42%');
    expect(formatPercent(0.001)).toBe('<1%');
    expect(formatPercent(0)).toBe('0%');
    expect(formatScore(0.0123456)).toBe('0.0123');
    expect(formatScore(null)).toBe('–');
  });

  it('names ports and directions as the window shows them', () => {
    expect(portLabel('tcp', 4444)).toBe('4444/tcp');
    expect(directionLabel('unusual-hour')).toBe('unusual hour');
    expect(directionLabel('appeared')).toBe('appeared');
  });

  it('shows a message, never a stack', () => {
    const err = new Error('database is locked');
    expect(messageOf(err)).toBe('database is locked');
    expect(messageOf('plain')).toBe('plain');
    expect(messageOf({ weird: true })).toBe('Something went wrong.');
  });
});

describe('counting', () => {
  it('pluralises', () => {
    expect(count(1, 'incident')).toBe('1 incident');
    expect(count(0, 'incident')).toBe('0 incidents');
    expect(count(3, 'process', 'processes')).toBe('3 processes');
    expect(count(1, 'process', 'processes')).toBe('1 process');
  });
});
