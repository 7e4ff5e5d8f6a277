import type { Db } from '../store/database';
import { ActionStore } from '../store/actionStore';
import { SettingsStore } from '../store/settingsStore';
import type { IncidentAction } from '../../../shared/contract';
import { stopProcess, type StopOptions, type StopPolicy } from './stopProcess';

/** A request about an incident that cannot be met as asked (unknown incident or pid): the message is for the user. */
export class IncidentActionError extends Error {
  override name = 'IncidentActionError';
}

/** Checks run per second of the grace period. */
export const CHECKS_PER_SECOND = 10;

/** The monitor's own signalling rights: its uid, the setting, and the pids it never signals. */
export function monitorPolicy(db: Db): StopPolicy {
  return {
    monitorUid: process.getuid?.() ?? -1,
    rootMayStopOthers: new SettingsStore(db).get('actions.rootMayStopOthers'),
    protectedPids: [1, process.pid, process.ppid],
  };
}

/**
 * Stops one process of an incident, as the incident recorded it, and records the outcome on the
 * incident (a refusal too). Throws IncidentActionError for an unknown incident, or a pid the
 * incident does not name.
 */
export async function stopIncidentProcess(db: Db, incidentId: number, pid: number, over: Partial<StopOptions> & { now?: () => number } = {}): Promise<IncidentAction> {
  if (db.prepare('SELECT 1 FROM incidents WHERE id = ?').get(incidentId) === undefined) throw new IncidentActionError(`no incident ${incidentId}`);
  const store = new ActionStore(db);
  const recorded = store.process(incidentId, pid);
  if (!recorded) {
    const named = store.processes(incidentId).map((p) => p.pid);
    throw new IncidentActionError(`incident ${incidentId} names no process with pid ${pid}${named.length === 0 ? ' (it names none)' : ` (it names pid ${named.join(', ')})`}`);
  }
  const grace = new SettingsStore(db).get('actions.stopGraceSeconds');
  const actionId = store.beginAction(incidentId, pid, (over.now ?? Date.now)());
  const result = await stopProcess(recorded, { policy: monitorPolicy(db), graceChecks: grace * CHECKS_PER_SECOND, checkEveryMs: 1000 / CHECKS_PER_SECOND, ...over });
  return store.finishAction(actionId, result.outcome, result.detail);
}
