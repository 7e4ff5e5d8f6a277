/**
 * The names of the contract's methods and the channel each travels on, free of any schema
 * library so the sandboxed preload can be built from this file alone. `contract.ts` is checked
 * against this list by the type system.
 */
export const METHOD_NAMES = [
  'getStatus',
  'listScores',
  'listIncidents',
  'getIncident',
  'setIncidentStatus',
  'portTimeline',
  'portHistory',
  'listConnections',
  'listDetectionRuns',
  'listModels',
  'detectNow',
  'getSettings',
  'setSetting',
  'setPaused',
  'snoozeAlerts',
  'getReport',
  'listReports',
  'stopIncidentProcess',
  'revealExecutable',
  'listAllowRules',
  'addAllowRule',
  'removeAllowRule',
] as const;

export type MethodName = (typeof METHOD_NAMES)[number];

export const channelOf = (method: MethodName): string => `portent:${method}`;

/**
 * What the engine tells an open window without being asked, so the window need not poll:
 * `changed` when something `getStatus` reports may have changed (a round, a detection, pause,
 * snooze), `incidents` when a detection opened incidents or a running one grew.
 */
export type EngineEvent = { type: 'changed' } | { type: 'incidents'; ids: number[] };

/** The IPC channel events travel on to the desktop window (main → renderer only). */
export const EVENT_CHANNEL = 'portent:event';

/** Whether a value received from the other side is an EngineEvent (nothing else is passed on). */
export function isEngineEvent(value: unknown): value is EngineEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { type?: unknown; ids?: unknown };
  if (v.type === 'changed') return true;
  return v.type === 'incidents' && Array.isArray(v.ids) && v.ids.every((id) => Number.isInteger(id));
}
