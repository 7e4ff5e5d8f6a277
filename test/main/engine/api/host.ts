import type { Db } from '../../../../src/main/engine/store/database';
import type { EngineHost } from '../../../../src/main/engine/api';
import type { Status } from '../../../../src/shared/contract';

/** A small engine host over a real database: records what the API asked of it. */
export class TestHost implements EngineHost {
  paused = false;
  snoozedUntil: number | null = null;
  settingsChanges = 0;
  interfaces?: EngineHost['interfaces'];
  detection: Promise<{ roundsScored: number; incidents: unknown[]; learning: { learning: boolean }; backend: string }> | null = null;

  constructor(readonly db: Db) {}

  status(): Status {
    return {
      version: '0.0.0-test',
      monitoring: true,
      paused: this.paused,
      monitoringSince: 1,
      database: this.db.name,
      databaseBytes: 0,
      lastRound: null,
      capture: { state: 'off', iface: null, message: 'off in tests', remedy: [] },
      model: { state: 'none', training: false, backend: null, version: null, threshold: null, roundsSeen: 0, roundsNeeded: 10, progress: 0 },
      detection: { running: false, lastRunAt: null, lastRunStatus: null },
      unscoredRounds: 0,
      incidents: { today: 0, week: 0, unseen: 0 },
      snoozedUntil: this.snoozedUntil,
    };
  }

  detectNow() {
    return this.detection;
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
  }

  snooze(until: number | null): void {
    this.snoozedUntil = until;
  }

  settingsChanged(): void {
    this.settingsChanges++;
  }
}
