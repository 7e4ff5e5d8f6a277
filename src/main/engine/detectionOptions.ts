import type { Db } from './store/database';
import { SettingsStore } from './store/settingsStore';
import { detectorPlan } from './monitorPlan';
import type { Trigger } from './schedule/job';
import type { Logger } from './log';
import type { SerializableDetectorOptions } from './detect/workerProtocol';

/**
 * The options of one detection job, from the settings stored in `db` as they are now. The
 * monitor's jobs and `portent detect` both start the worker with these, so a detection learns
 * for as long, and alerts as readily, whoever starts it (and as `portent status` says).
 */
export function detectionOptions(db: Db, trigger: Trigger, log?: Logger): SerializableDetectorOptions {
  return { trigger, ...detectorPlan(new SettingsStore(db, log).all()) };
}
