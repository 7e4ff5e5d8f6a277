import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Monitor } from '../../../../src/main/engine/monitor';
import { createLogger } from '../../../../src/main/engine/log';
import { createSocketScanner } from '../../../../src/main/engine/collect/sockets';
import type { SocketScanner } from '../../../../src/main/engine/collect/sockets/types';
import { DEFAULT_MODEL_CONFIG, windowSpan } from '../../../../src/main/engine/detect/model';
import { windowsFor } from '../../../../src/main/engine/detect/windows';
import { tempDir } from '../../../support/tmp';
import { clearOfTheNextTick, linesWith } from './support';

const MIN = 60_000;
const monitors: Monitor[] = [];
afterEach(async () => {
  for (const m of monitors.splice(0)) await m.stop();
});

interface RoundRow {
  id: number;
  started_at: number;
  ended_at: number;
  duration_ms: number;
}

describe.runIf(process.platform === 'linux')('the clock stepped back and forward (through the monitor’s clock)', () => {
  it('stores no duplicate, negative or overlapping round; skips rounds while behind, says so once; detection windows break at the gap', async () => {
    let t = Date.UTC(2026, 2, 1, 12, 0, 0);
    let stepBackDuringScan = false;
    const real = createSocketScanner();
    // A scan during which the clock is stepped back ten minutes (an NTP step in mid-round).
    const scanner: SocketScanner = {
      scan: async () => {
        const snapshot = await real.scan();
        if (stepBackDuringScan) t -= 10 * MIN;
        stepBackDuringScan = false;
        return snapshot;
      },
    };
    const lines: string[] = [];
    const monitor = new Monitor({ dbPath: path.join(tempDir(), 'portent.db'), log: createLogger((l) => lines.push(l), 'debug'), roundSeconds: 60, capture: false, scanner, now: () => t });
    monitors.push(monitor);
    await clearOfTheNextTick();
    monitor.start();
    const round = async () => {
      const r = await monitor.collectNow();
      t += MIN;
      return r;
    };

    for (let i = 0; i < 6; i++) expect(await round()).toMatchObject({ status: 'ok' });
    // NTP steps the clock back an hour: the next rounds would precede stored ones.
    t -= 60 * MIN;
    for (let i = 0; i < 3; i++) expect(await round()).toBeNull();
    expect(monitor.status().recording).toMatchObject({ state: 'clock-behind', roundsSkipped: 3 });
    expect(linesWith(lines, /^the system clock is \d+ s behind the newest stored round/)).toHaveLength(1);
    // The clock catches up with the newest round.
    t += 60 * MIN;
    expect(await round()).toMatchObject({ status: 'ok' });
    expect(monitor.status().recording).toMatchObject({ state: 'recording', roundsSkipped: 0, skippedTotal: 3 });
    expect(linesWith(lines, 'rounds are recorded again')).toHaveLength(1);

    // Stepped back in the middle of a scan: the round keeps a start and a non-negative length.
    stepBackDuringScan = true;
    expect(await round()).toMatchObject({ status: 'ok' });
    expect(await round()).toBeNull();
    t += 11 * MIN;
    expect(await round()).toMatchObject({ status: 'ok' });

    // Suspended for three hours, then resumed: a gap, then rounds as usual.
    t += 180 * MIN;
    const afterResume = t;
    for (let i = 0; i < 5; i++) expect(await round()).toMatchObject({ status: 'ok' });
    expect(linesWith(lines, 'collect failed')).toEqual([]);

    const rows = monitor.db.prepare('SELECT id, started_at, ended_at, duration_ms FROM rounds ORDER BY id').all() as RoundRow[];
    expect(rows).toHaveLength(14);
    for (const [i, r] of rows.entries()) {
      expect(r.ended_at).toBeGreaterThanOrEqual(r.started_at);
      expect(r.duration_ms).toBeGreaterThanOrEqual(0);
      expect(r.ended_at - r.started_at).toBe(r.duration_ms);
      if (i > 0) {
        // In order of time as of storing, none overlapping the one before.
        expect(r.started_at).toBeGreaterThan(rows[i - 1]!.started_at);
        expect(r.started_at).toBeGreaterThanOrEqual(rows[i - 1]!.ended_at);
      }
    }
    expect(new Set(rows.map((r) => r.started_at)).size).toBe(rows.length);

    // The detector's windows (rounds in order of time, as it reads them) never bridge the gap:
    // each round after the suspend sees only rounds after it.
    const byTime = [...rows].sort((a, b) => a.started_at - b.started_at).map((r) => ({ id: r.id, startedAt: r.started_at }));
    expect(byTime.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    const w = windowSpan(DEFAULT_MODEL_CONFIG);
    const firstAfter = byTime.findIndex((r) => r.startedAt >= afterResume);
    for (const [i, win] of windowsFor(byTime, w, 150_000).entries()) {
      if (i >= firstAfter) expect(Math.min(...win)).toBeGreaterThanOrEqual(firstAfter);
    }

    // A detection over all of it: every round scored, nothing failed.
    const result = await monitor.detectNow()!;
    expect(result.roundsScored).toBe(rows.length);
    expect(monitor.db.prepare("SELECT status FROM detection_runs WHERE id = ?").pluck().get(result.runId)).toBe('ok');
  }, 120_000);
});
