import type { EngineEvent } from '../../shared/methods';
import type { EventEmitter } from 'node:events';
import type { MonitorEvents } from './monitor';
import type { IncidentRow } from './store/detectionStore';

/**
 * The monitor's events as the window's: one subscription serves the desktop window (over IPC)
 * and the pages of `portent serve` (server-sent events). Returns how to unsubscribe.
 */
export function subscribeEngineEvents(monitor: Pick<EventEmitter<MonitorEvents>, 'on' | 'off'>, listener: (event: EngineEvent) => void): () => void {
  const changed = () => listener({ type: 'changed' });
  const incidents = (rows: IncidentRow[]) => listener({ type: 'incidents', ids: rows.map((r) => r.id) });
  monitor.on('changed', changed);
  monitor.on('incidents', incidents);
  return () => {
    monitor.off('changed', changed);
    monitor.off('incidents', incidents);
  };
}
