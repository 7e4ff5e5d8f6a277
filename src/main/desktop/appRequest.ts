import path from 'node:path';
import { APP_HOST, APP_SCHEME } from './trust';
import { CONTENT_SECURITY_POLICY, contentTypeOf } from '../../shared/webPage';

/**
 * How an app:// request maps to a file of the built UI (`out/renderer`). Decided here, without
 * Electron, so the path-traversal guard is tested on its own: a request resolves to a file
 * inside the root or is refused, whatever its encoding.
 */

export type AppRequest = { ok: true; file: string; contentType: string } | { ok: false; status: 400 | 403 | 404; reason: string };

export { CONTENT_SECURITY_POLICY, contentTypeOf };

/** Response headers for a file served from app://. */
export function appResponseHeaders(contentType: string): Record<string, string> {
  return { 'content-type': contentType, 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff' };
}

const refuse = (status: 400 | 403 | 404, reason: string): AppRequest => ({ ok: false, status, reason });

export function resolveAppRequest(root: string, url: string): AppRequest {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return refuse(400, 'not a URL');
  }
  if (u.protocol !== `${APP_SCHEME}:`) return refuse(403, `scheme ${u.protocol} is not served here`);
  if (u.host !== APP_HOST || u.username !== '' || u.password !== '') return refuse(403, `host ${u.host || '(none)'} is not Portent`);
  // The URL parser has already removed `.` and `..` segments, including `%2e%2e`; each segment is
  // decoded on its own here, and any that still names a parent, or that hides a separator
  // behind %2f or %5c, or a NUL, is refused rather than cleaned up.
  const segments: string[] = [];
  for (const raw of u.pathname.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return refuse(400, 'malformed percent-encoding');
    }
    if (segment === '.' || segment === '..' || /[/\\\0]/.test(segment)) return refuse(403, 'path leaves the UI folder');
    segments.push(segment);
  }
  if (segments.length === 0) segments.push('index.html');
  const base = path.resolve(root);
  const file = path.resolve(base, ...segments);
  const rel = path.relative(base, file);
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return refuse(403, 'path leaves the UI folder');
  return { ok: true, file, contentType: contentTypeOf(file) };
}
