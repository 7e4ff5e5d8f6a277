import fs from 'node:fs/promises';
import { protocol } from 'electron';
import { appResponseHeaders, resolveAppRequest } from './appRequest';
import { APP_SCHEME } from './trust';

/**
 * The window's UI comes from app://portent/, not file://: a file:// page could read any file
 * the user can, while app:// serves only the built UI, through the guard in appRequest.ts.
 */

/** Must run before the app is ready: a scheme's privileges are fixed at start-up. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** Serves the files under `root` (out/renderer) on app://portent/. */
export function serveApp(root: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return new Response('method not allowed', { status: 405 });
    const resolved = resolveAppRequest(root, request.url);
    if (!resolved.ok) return new Response(resolved.reason, { status: resolved.status });
    try {
      const body = await fs.readFile(resolved.file);
      return new Response(request.method === 'HEAD' ? null : body, { headers: appResponseHeaders(resolved.contentType) });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
}
