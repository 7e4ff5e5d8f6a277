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
  'listDetectionRuns',
  'listModels',
  'detectNow',
  'getSettings',
  'setSetting',
  'setPaused',
  'snoozeAlerts',
] as const;

export type MethodName = (typeof METHOD_NAMES)[number];

export const channelOf = (method: MethodName): string => `portent:${method}`;
