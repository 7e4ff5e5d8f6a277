import type { Session, WebContents } from 'electron';
import { isTrustedUrl } from './trust';

/** Portent's UI needs no camera, microphone, notifications API or other permission: all are refused. */
export function hardenSession(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

/**
 * Applied to every web contents as it is created: no new windows, no webviews, and no
 * navigation away from Portent's own pages.
 */
export function guardWebContents(contents: WebContents, devOrigin: string | null): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-attach-webview', (event) => event.preventDefault());
  const guard = (event: { preventDefault(): void }, url: string): void => {
    if (!isTrustedUrl(url, devOrigin)) event.preventDefault();
  };
  contents.on('will-navigate', (event) => guard(event, event.url));
  contents.on('will-redirect', (event) => guard(event, event.url));
}
