import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../../src/main/engine/store/database';
import { RoundStore } from '../../../../src/main/engine/store/rounds';
import { recordingGaps } from '../../../../src/main/engine/queries/gaps';
import { RecordingGapSchema } from '../../../../src/shared/contract';
import { openTestDb } from '../../../support/db';
import { MINUTE, minutes, seedRounds, socket, T0 } from './seed';

let db: Db;
beforeEach(() => {
  db = openTestDb().db;
});
afterEach(() => db.close());

const at = (m: number) => T0 + m * MINUTE;
const held = () => [socket('tcp', 22, 'sshd')];

function failRound(startedAt: number, error: string): void {
  new RoundStore(db).record({ host: 'test', startedAt, endedAt: startedAt + 10, outcome: { error } });
}

describe('recordingGaps', () => {
  it('finds no gap in rounds a minute apart, and one where the monitor stopped', () => {
    seedRounds(db, [...minutes(30), ...minutes(30, at(60))], held);
    expect(recordingGaps(db, at(0), at(29))).toEqual([]);
    // Rounds at 0..29 and 60..89: the round at 29 stands for the minute after it.
    const gaps = recordingGaps(db, at(0), at(90));
    expect(gaps).toEqual([{ from: at(30), to: at(60), reason: 'unknown', detail: null }]);
    for (const g of gaps) expect(RecordingGapSchema.parse(g)).toEqual(g);
  });

  it('tolerates a late round but not a missing stretch of more than two and a half rounds', () => {
    seedRounds(db, [at(0), at(1), at(2), at(4), at(5), at(6), at(9), at(10)], held);
    expect(recordingGaps(db, at(0), at(11))).toEqual([{ from: at(7), to: at(9), reason: 'unknown', detail: null }]);
  });

  it('judges each stretch by its own round length (a monitor restarted with shorter rounds)', () => {
    // Minute rounds, a 3-minute stop, then rounds every 2 seconds.
    const fast = Array.from({ length: 60 }, (_, i) => at(13) + i * 2000);
    seedRounds(db, [...minutes(10), ...fast], held);
    expect(recordingGaps(db, at(0), at(15))).toEqual([{ from: at(9) + 2000, to: at(13), reason: 'unknown', detail: null }]);
  });

  it('names failed rounds as the reason, with their count and last error', () => {
    seedRounds(db, minutes(5), held);
    failRound(at(5), 'permission denied');
    failRound(at(6), 'out of memory');
    seedRounds(db, minutes(3, at(7)), held);
    expect(recordingGaps(db, at(0), at(10))).toEqual([{ from: at(5), to: at(7), reason: 'failed', detail: '2 rounds failed: out of memory' }]);
    // The range's own edges clip the gap; what failed is counted inside the range.
    expect(recordingGaps(db, at(6), at(8))).toEqual([{ from: at(6), to: at(7), reason: 'failed', detail: '1 round failed: out of memory' }]);
  });

  it('calls the stretch before the oldest round no history, and an empty database likewise', () => {
    expect(recordingGaps(db, at(0), at(10))).toEqual([{ from: at(0), to: at(10), reason: 'no-history', detail: null }]);
    seedRounds(db, minutes(5, at(20)), held);
    expect(recordingGaps(db, at(0), at(25))).toEqual([{ from: at(0), to: at(20), reason: 'no-history', detail: null }]);
  });

  it('tells the newest gap by the live monitor: paused, stopped, or the start of the running one', () => {
    seedRounds(db, minutes(10), held);
    const live = { monitoring: true, paused: true, monitoringSince: at(-100), roundMs: MINUTE };
    expect(recordingGaps(db, at(0), at(30), live)).toEqual([{ from: at(10), to: at(30), reason: 'paused', detail: null }]);
    expect(recordingGaps(db, at(0), at(30), { ...live, paused: false, monitoring: false })).toEqual([{ from: at(10), to: at(30), reason: 'stopped', detail: null }]);
    // Without a live monitor, nothing says why.
    expect(recordingGaps(db, at(0), at(30))).toEqual([{ from: at(10), to: at(30), reason: 'unknown', detail: null }]);
    // A monitor started at minute 40 ends the gap before it: it was not running.
    seedRounds(db, minutes(10, at(41)), held);
    expect(recordingGaps(db, at(0), at(51), { ...live, paused: false, monitoringSince: at(40) })).toEqual([{ from: at(10), to: at(41), reason: 'stopped', detail: null }]);
    // A round only just due is no gap.
    expect(recordingGaps(db, at(41), at(52), { ...live, paused: true })).toEqual([]);
  });

  it('sees a range that lies wholly inside a gap', () => {
    seedRounds(db, [...minutes(5), ...minutes(5, at(60))], held);
    expect(recordingGaps(db, at(20), at(30))).toEqual([{ from: at(20), to: at(30), reason: 'unknown', detail: null }]);
  });
});
