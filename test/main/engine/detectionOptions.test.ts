import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/main/engine/store/database';
import { SettingsStore } from '../../../src/main/engine/store/settingsStore';
import { detectionOptions } from '../../../src/main/engine/detectionOptions';
import { monitorPlan } from '../../../src/main/engine/monitorPlan';
import { createLogger } from '../../../src/main/engine/log';
import { openTestDb } from '../../support/db';

let db: Db;
beforeEach(() => (db = openTestDb().db));
afterEach(() => db.close());

describe('detectionOptions', () => {
  it('gives the detector the defaults when nothing is stored', () => {
    expect(detectionOptions(db, 'schedule')).toEqual({ trigger: 'schedule', minTrainingRounds: 360, budget: 1 / 1440, sensitivity: 1 });
  });

  it('follows the stored learning period, alert budget and sensitivity, as the plan behind status does', () => {
    const settings = new SettingsStore(db);
    settings.set('detection.learningHours', 24);
    settings.set('detection.alertsPerDay', 3);
    settings.set('detection.sensitivity', 'high');
    const options = detectionOptions(db, 'manual');
    expect(options).toEqual({ trigger: 'manual', minTrainingRounds: 1440, budget: 3 / 1440, sensitivity: 1.25 });
    // What `portent status` and the window report as rounds needed comes from the same plan.
    expect(monitorPlan(settings.all(), { roundSeconds: 60 }).detector).toEqual({ minTrainingRounds: 1440, budget: 3 / 1440, sensitivity: 1.25 });

    settings.set('detection.sensitivity', 'low');
    expect(detectionOptions(db, 'manual').sensitivity).toBe(0.8);
  });

  it('uses the default for a stored value that is no longer valid, and says so', () => {
    db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('detection.learningHours', '0', 1)").run();
    const lines: string[] = [];
    expect(detectionOptions(db, 'schedule', createLogger((l) => lines.push(l), 'warn')).minTrainingRounds).toBe(360);
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['stored setting is not valid; using its default']);
  });
});
