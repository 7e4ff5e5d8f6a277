import { describe, expect, it } from 'vitest';
import { APP_ENTRY, appUrl, incidentRoute, isAppUrl, isTrustedSenderFacts, isTrustedUrl } from '../../../src/main/desktop/trust';

describe('URL trust', () => {
  it('trusts Portent’s own pages only', () => {
    expect(isAppUrl('app://portent/index.html')).toBe(true);
    expect(isAppUrl('app://portent/index.html#/incidents/3')).toBe(true);
    expect(isAppUrl('app://evil/index.html')).toBe(false);
    expect(isAppUrl('app://portent.evil/index.html')).toBe(false);
    expect(isAppUrl('app://portent:8080/index.html')).toBe(false);
    expect(isAppUrl('app://user:pw@portent/index.html')).toBe(false);
    expect(isAppUrl('file:///work/out/renderer/index.html')).toBe(false);
    expect(isAppUrl('https://portent/index.html')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
    expect(isAppUrl('')).toBe(false);
  });

  it('trusts the dev server only when one is given, and only its exact origin', () => {
    expect(isTrustedUrl('http://localhost:5173/', null)).toBe(false);
    expect(isTrustedUrl('http://localhost:5173/#/settings', 'http://localhost:5173')).toBe(true);
    expect(isTrustedUrl('http://localhost:5174/', 'http://localhost:5173')).toBe(false);
    expect(isTrustedUrl('http://localhost.evil.com:5173/', 'http://localhost:5173')).toBe(false);
    expect(isTrustedUrl('app://portent/index.html', 'http://localhost:5173')).toBe(true);
    // A dev origin that is not http(s) is ignored rather than trusted.
    expect(isTrustedUrl('file:///etc/passwd', 'file:///')).toBe(false);
  });

  it('builds the window address for a route', () => {
    expect(appUrl(APP_ENTRY)).toBe('app://portent/index.html');
    expect(appUrl(APP_ENTRY, incidentRoute(42))).toBe('app://portent/index.html#/incidents/42');
    expect(appUrl('app://portent/index.html#/settings', '/incidents/1')).toBe('app://portent/index.html#/incidents/1');
    expect(appUrl('http://localhost:5173', 'incidents/1')).toBe('http://localhost:5173#/incidents/1');
  });
});

describe('IPC sender trust', () => {
  const good = { frameUrl: 'app://portent/index.html#/incidents', isMainFrame: true, fromPortentWindow: true };

  it('accepts the main frame of Portent’s window showing Portent’s page', () => {
    expect(isTrustedSenderFacts(good)).toBe(true);
  });

  it('refuses any other sender', () => {
    expect(isTrustedSenderFacts({ ...good, frameUrl: 'https://example.com/' })).toBe(false);
    expect(isTrustedSenderFacts({ ...good, frameUrl: 'file:///tmp/x.html' })).toBe(false);
    expect(isTrustedSenderFacts({ ...good, frameUrl: 'app://other/index.html' })).toBe(false);
    expect(isTrustedSenderFacts({ ...good, frameUrl: null })).toBe(false);
    expect(isTrustedSenderFacts({ ...good, isMainFrame: false })).toBe(false);
    expect(isTrustedSenderFacts({ ...good, fromPortentWindow: false })).toBe(false);
    expect(isTrustedSenderFacts({ ...good, frameUrl: 'http://localhost:5173/' })).toBe(false);
    expect(isTrustedSenderFacts({ ...good, frameUrl: 'http://localhost:5173/' }, 'http://localhost:5173')).toBe(true);
  });
});
