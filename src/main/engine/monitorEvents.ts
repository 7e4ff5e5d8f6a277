import type { EngineEvent } from '../../shared/methods';
import type { IncidentRow } from './store/detectionStore';

/**
 * The monitor's events as the window's: one subscription serves the desktop window (over IPC)
 * and the pages of `portent serve` (server-sent events). Returns how to unsubscribe.
 */
/** What the events come from: the Monitor, or EngineClient for a monitor in its own thread. */
export interface EngineEventSource {
  on(event: 'changed', listener: () => void): unknown;
  on(event: 'incidents', listener: (rows: IncidentRow[]) => void): unknown;
  off(event: 'changed', listener: () => void): unknown;
  off(event: 'incidents', listener: (rows: IncidentRow[]) => void): unknown;
}

export function subscribeEngineEvents(monitor: EngineEventSource, listener: (event: EngineEvent) => void): () => void {
  const changed = () => listener({ type: 'changed' });
  const incidents = (rows: IncidentRow[]) => listener({ type: 'incidents', ids: rows.map((r) => r.id) });
  monitor.on('changed', changed);
  monitor.on('incidents', incidents);
  return () => {
    monitor.off('changed', changed);
    monitor.off('incidents', incidents);
  };
}
