import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appResponseHeaders, CONTENT_SECURITY_POLICY, contentTypeOf, resolveAppRequest } from '../../../src/main/desktop/appRequest';

const root = '/opt/portent/out/renderer';

function fileOf(url: string): string | null {
  const r = resolveAppRequest(root, url);
  return r.ok ? r.file : null;
}

function statusOf(url: string): number {
  const r = resolveAppRequest(root, url);
  return r.ok ? 200 : r.status;
}

describe('app:// requests', () => {
  it('serve files of the UI folder', () => {
    expect(fileOf('app://portent/index.html')).toBe(`${root}/index.html`);
    expect(fileOf('app://portent/assets/index-abc123.js')).toBe(`${root}/assets/index-abc123.js`);
    expect(fileOf('app://portent/')).toBe(`${root}/index.html`);
    expect(fileOf('app://portent')).toBe(`${root}/index.html`);
    // Query and hash do not pick the file.
    expect(fileOf('app://portent/index.html?x=1#/incidents/3')).toBe(`${root}/index.html`);
    expect(fileOf('app://portent/assets/%E2%9C%93.js')).toBe(`${root}/assets/✓.js`);
  });

  it('stay inside the folder, whatever the dots and encodings', () => {
    const traversals = [
      'app://portent/../x',
      'app://portent/../../../../etc/passwd',
      'app://portent/%2e%2e/%2e%2e/etc/passwd',
      'app://portent/%2E%2E/x',
      'app://portent/assets/..%2f..%2f..%2fetc%2fpasswd',
      'app://portent/..%2F..%2Fetc%2Fpasswd',
      'app://portent/..%5c..%5cetc%5cpasswd',
      'app://portent/%252e%252e/x',
      'app://portent//etc/passwd',
      'app://portent/%2fetc%2fpasswd',
      'app://portent/index.html%00.png',
    ];
    for (const url of traversals) {
      const file = fileOf(url);
      if (file !== null) expect(file.startsWith(root + path.sep), url).toBe(true);
    }
    // The URL parser folds plain and %2e dot segments; what is left lands inside the root.
    expect(fileOf('app://portent/../x')).toBe(`${root}/x`);
    expect(fileOf('app://portent/%2e%2e/%2e%2e/etc/passwd')).toBe(`${root}/etc/passwd`);
    // An absolute path after the host stays relative to the root.
    expect(fileOf('app://portent//etc/passwd')).toBe(`${root}/etc/passwd`);
    // Encoded separators and NULs are refused outright.
    expect(statusOf('app://portent/assets/..%2f..%2f..%2fetc%2fpasswd')).toBe(403);
    expect(statusOf('app://portent/..%5c..%5cetc%5cpasswd')).toBe(403);
    expect(statusOf('app://portent/%2fetc%2fpasswd')).toBe(403);
    expect(statusOf('app://portent/index.html%00.png')).toBe(403);
    // Double encoding is taken literally: a file named "%2e%2e", not a parent.
    expect(fileOf('app://portent/%252e%252e/x')).toBe(`${root}/%2e%2e/x`);
  });

  it('refuse other hosts, schemes and malformed URLs', () => {
    expect(statusOf('app://evil/index.html')).toBe(403);
    expect(statusOf('app:///etc/passwd')).toBe(403);
    expect(statusOf('app://portent:80/index.html')).toBe(403);
    expect(statusOf('app://user@portent/index.html')).toBe(403);
    expect(statusOf('file:///etc/passwd')).toBe(403);
    expect(statusOf('https://portent/index.html')).toBe(403);
    expect(statusOf('not a url')).toBe(400);
    expect(statusOf('app://portent/%E0%A4%A')).toBe(400);
  });

  it('name the content type, with the CSP and nosniff on every response', () => {
    expect(contentTypeOf('/a/index.html')).toBe('text/html; charset=utf-8');
    expect(contentTypeOf('/a/app.JS')).toBe('text/javascript; charset=utf-8');
    expect(contentTypeOf('/a/kernel.wasm')).toBe('application/wasm');
    expect(contentTypeOf('/a/blob')).toBe('application/octet-stream');
    expect(appResponseHeaders('text/css; charset=utf-8')).toEqual({
      'content-type': 'text/css; charset=utf-8',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
    });
  });

  it('send the same CSP as the page’s meta tag', () => {
    const html = fs.readFileSync(path.join(import.meta.dirname, '../../../src/renderer/index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html);
    expect(meta?.[1]).toBe(CONTENT_SECURITY_POLICY);
  });
});
