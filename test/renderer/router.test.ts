import { describe, expect, it } from 'vitest';
import { DEFAULT_RANGE, hrefOf, parseRoute, type Route } from '../../src/renderer/src/router';

describe('hash routes', () => {
  it('reads every place of the window', () => {
    expect(parseRoute('')).toEqual({ view: 'overview' });
    expect(parseRoute('#/')).toEqual({ view: 'overview' });
    expect(parseRoute('#/incidents')).toEqual({ view: 'incidents', id: null });
    expect(parseRoute('#/incidents/42')).toEqual({ view: 'incidents', id: 42 });
    expect(parseRoute('#/detection')).toEqual({ view: 'detection' });
    expect(parseRoute('#/settings')).toEqual({ view: 'settings' });
    expect(parseRoute('#/ports')).toEqual({ view: 'ports', range: DEFAULT_RANGE, port: null });
    expect(parseRoute('#/ports/udp/53?last=7d')).toEqual({ view: 'ports', range: { last: '7d' }, port: { proto: 'udp', port: 53 } });
    expect(parseRoute('#/ports?from=1000&to=5000')).toEqual({ view: 'ports', range: { from: 1000, to: 5000 }, port: null });
    expect(parseRoute('#/connections')).toEqual({ view: 'connections', range: DEFAULT_RANGE, process: null, host: null });
    expect(parseRoute('#/connections?last=1h&process=firefox&host=%20example.net%20')).toEqual({ view: 'connections', range: { last: '1h' }, process: 'firefox', host: 'example.net' });
    expect(parseRoute('#/connections?process=')).toMatchObject({ process: null });
  });

  it('opens an incident from the link a desktop notification carries', () => {
    expect(parseRoute('#/incidents/7')).toEqual({ view: 'incidents', id: 7 });
  });

  it('opens the daily report, the newest or a day\'s, and refuses what is not a day', () => {
    expect(parseRoute('#/report')).toEqual({ view: 'report', day: null });
    expect(parseRoute('#/report/2026-12-05')).toEqual({ view: 'report', day: '2026-12-05' });
    expect(hrefOf({ view: 'report', day: '2026-12-05' })).toBe('#/report/2026-12-05');
    expect(hrefOf({ view: 'report', day: null })).toBe('#/report');
    expect(parseRoute('#/report/2026-13-05').view).toBe('not-found');
    expect(parseRoute('#/report/yesterday').view).toBe('not-found');
    expect(parseRoute('#/report/2026-12-05/x').view).toBe('not-found');
  });

  it('treats malformed places as not found, never as a crash', () => {
    expect(parseRoute('#/incidents/0').view).toBe('not-found');
    expect(parseRoute('#/incidents/abc').view).toBe('not-found');
    expect(parseRoute('#/incidents/1/2').view).toBe('not-found');
    expect(parseRoute('#/ports/icmp/1').view).toBe('not-found');
    expect(parseRoute('#/ports/tcp/70000').view).toBe('not-found');
    expect(parseRoute('#/nowhere')).toEqual({ view: 'not-found', path: '/nowhere' });
  });

  it('falls back to the default range for a bad or reversed range', () => {
    expect(parseRoute('#/ports?last=3y')).toMatchObject({ range: DEFAULT_RANGE });
    expect(parseRoute('#/ports?from=5000&to=1000')).toMatchObject({ range: DEFAULT_RANGE });
    expect(parseRoute('#/ports?from=-5&to=1000')).toMatchObject({ range: DEFAULT_RANGE });
  });

  it('writes hashes that read back as the same route', () => {
    const routes: Route[] = [
      { view: 'overview' },
      { view: 'incidents', id: null },
      { view: 'incidents', id: 12 },
      { view: 'ports', range: { last: '1h' }, port: null },
      { view: 'ports', range: { from: 10, to: 20 }, port: { proto: 'tcp', port: 4444 } },
      { view: 'connections', range: { last: '7d' }, process: null, host: null },
      { view: 'connections', range: { from: 10, to: 20 }, process: 'bash & co', host: '10.0.0.1' },
      { view: 'detection' },
      { view: 'settings' },
    ];
    for (const r of routes) expect(parseRoute(hrefOf(r))).toEqual(r);
  });
});
