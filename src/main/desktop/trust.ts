/**
 * Which URLs and which IPC senders Portent trusts. The window only ever shows Portent's own UI,
 * served from app://portent/ (or, while developing, from the electron-vite dev server), so
 * anything else is refused: navigation, new windows and IPC calls alike.
 */

export const APP_SCHEME = 'app';
export const APP_HOST = 'portent';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** The page the window loads; the UI routes by the hash after it. */
export const APP_ENTRY = `${APP_ORIGIN}/index.html`;

/** The window's address for a route such as `/incidents/12`, relative to a base (app:// or dev server). */
export function appUrl(base: string, route?: string): string {
  const entry = base.split('#')[0] ?? base;
  return route ? `${entry}#${route.startsWith('/') ? route : `/${route}`}` : entry;
}

/** The window's Report view on a day (YYYY-MM-DD), as the daily report's notification opens it. */
export function reportRoute(day: string): string {
  return `/report/${day}`;
}

export function incidentRoute(id: number): string {
  return `/incidents/${id}`;
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** A page of Portent's own UI: app://portent/..., no credentials, no port. */
export function isAppUrl(url: string): boolean {
  const u = parse(url);
  return u !== null && u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST && u.username === '' && u.password === '';
}

/**
 * Trusted: Portent's own pages, and, only when a dev server origin is given (an unpackaged
 * build run by `npm start` in development), pages of exactly that origin.
 */
export function isTrustedUrl(url: string, devOrigin: string | null = null): boolean {
  if (isAppUrl(url)) return true;
  if (devOrigin === null) return false;
  const u = parse(url);
  const dev = parse(devOrigin);
  return u !== null && dev !== null && (dev.protocol === 'http:' || dev.protocol === 'https:') && u.origin === dev.origin;
}

/** What the shell knows about the sender of an IPC message. */
export interface SenderFacts {
  /** The URL of the frame that sent it; null when the frame is already gone. */
  frameUrl: string | null;
  /** Sent by a top-level frame, not an iframe. */
  isMainFrame: boolean;
  /** Sent by a window Portent created. */
  fromPortentWindow: boolean;
}

/** An IPC call runs only for Portent's own top-level page in Portent's own window. */
export function isTrustedSenderFacts(facts: SenderFacts, devOrigin: string | null = null): boolean {
  return facts.fromPortentWindow && facts.isMainFrame && facts.frameUrl !== null && isTrustedUrl(facts.frameUrl, devOrigin);
}
