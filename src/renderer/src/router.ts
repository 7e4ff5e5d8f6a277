import { useCallback, useSyncExternalStore } from 'react';
import { isRangeKey, type Range } from './timeRange';
import { REPORT_DAY } from '../../shared/contract';

/**
 * The window's places, read from and written to `location.hash` so that a desktop notification
 * can open `#/incidents/<id>` directly and the back button works. Parsing is pure and tested.
 */
export type PortKey = { proto: 'tcp' | 'udp'; port: number };

export type Route =
  | { view: 'overview' }
  | { view: 'incidents'; id: number | null }
  | { view: 'ports'; range: Range; port: PortKey | null }
  /** Who talked to whom over a range, narrowed to a process name or a host (address or name). */
  | { view: 'connections'; range: Range; process: string | null; host: string | null }
  | { view: 'detection' }
  /** The daily report of a day (YYYY-MM-DD); null: the newest. */
  | { view: 'report'; day: string | null }
  | { view: 'settings' }
  | { view: 'not-found'; path: string };

/** Fitted to the data recorded (up to a day), so a fresh install does not open on an empty day. */
export const DEFAULT_RANGE: Range = { last: 'fit' };

function positiveInt(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,15}$/.test(text)) return null;
  const n = Number(text);
  return n > 0 ? n : null;
}

function rangeOf(query: URLSearchParams): Range {
  const last = query.get('last');
  if (last !== null && isRangeKey(last)) return { last };
  const from = positiveInt(query.get('from') ?? undefined);
  const to = positiveInt(query.get('to') ?? undefined);
  return from !== null && to !== null && to > from ? { from, to } : DEFAULT_RANGE;
}

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '');
  const [pathPart = '', queryPart = ''] = raw.split('?', 2);
  const parts = pathPart.split('/').filter(Boolean);
  const query = new URLSearchParams(queryPart);
  const [head, ...rest] = parts;
  if (head === undefined) return { view: 'overview' };
  if (head === 'incidents' && rest.length === 0) return { view: 'incidents', id: null };
  if (head === 'incidents' && rest.length === 1) {
    const id = positiveInt(rest[0]);
    if (id !== null) return { view: 'incidents', id };
  }
  if (head === 'ports' && rest.length === 0) return { view: 'ports', range: rangeOf(query), port: null };
  if (head === 'ports' && rest.length === 2) {
    const [proto, portText] = rest;
    const port = portText !== undefined && /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if ((proto === 'tcp' || proto === 'udp') && port <= 65535) return { view: 'ports', range: rangeOf(query), port: { proto, port } };
  }
  if (head === 'connections' && rest.length === 0) {
    return { view: 'connections', range: rangeOf(query), process: filterOf(query, 'process'), host: filterOf(query, 'host') };
  }
  if (head === 'detection' && rest.length === 0) return { view: 'detection' };
  if (head === 'report' && rest.length === 0) return { view: 'report', day: null };
  if (head === 'report' && rest.length === 1 && REPORT_DAY.test(rest[0]!)) return { view: 'report', day: rest[0]! };
  if (head === 'settings' && rest.length === 0) return { view: 'settings' };
  return { view: 'not-found', path: '/' + parts.join('/') };
}

/** A text filter from the query: trimmed, at most 200 characters, absent when empty. */
function filterOf(query: URLSearchParams, name: string): string | null {
  const value = query.get(name)?.trim().slice(0, 200) ?? '';
  return value === '' ? null : value;
}

function rangeQuery(range: Range, extra: Record<string, string | null> = {}): string {
  const q = new URLSearchParams('last' in range ? { last: range.last } : { from: String(range.from), to: String(range.to) });
  for (const [k, v] of Object.entries(extra)) if (v !== null) q.set(k, v);
  return `?${q.toString()}`;
}

/** The hash (with its `#`) that parseRoute reads back as the same route. */
export function hrefOf(route: Route): string {
  switch (route.view) {
    case 'overview':
      return '#/';
    case 'incidents':
      return route.id === null ? '#/incidents' : `#/incidents/${route.id}`;
    case 'ports':
      return (route.port ? `#/ports/${route.port.proto}/${route.port.port}` : '#/ports') + rangeQuery(route.range);
    case 'connections':
      return '#/connections' + rangeQuery(route.range, { process: route.process, host: route.host });
    case 'detection':
      return '#/detection';
    case 'report':
      return route.day === null ? '#/report' : `#/report/${route.day}`;
    case 'settings':
      return '#/settings';
    case 'not-found':
      return '#' + route.path;
  }
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

/** The current route, re-rendered on every hash change. */
export function useHash(): string {
  return useSyncExternalStore(subscribe, () => window.location.hash);
}

export function navigate(route: Route): void {
  window.location.hash = hrefOf(route);
}

export function useNavigate(): (route: Route) => void {
  return useCallback((route: Route) => navigate(route), []);
}
