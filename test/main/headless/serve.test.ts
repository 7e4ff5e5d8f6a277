import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRendererDir } from '../../../src/main/headless/commands/serve';
import { exitOf, runCli, startCli, waitForOutput } from '../../support/cli';
import { tempDir } from '../../support/tmp';

describe.runIf(process.platform === 'linux' && fs.existsSync(path.join(defaultRendererDir(), 'index.html')))('portent serve', () => {
  it('prints the address with its token, serves the page and the API, and stops on SIGTERM', async () => {
    const file = path.join(tempDir(), 'portent.db');
    const child = startCli(['serve', '--db', file, '--round-seconds', '1', '--no-capture']);
    const exit = exitOf(child);
    try {
      const out = await waitForOutput(child.stdout, /Portent is at (\S+)\n/);
      const url = /Portent is at (\S+)\n/.exec(out)![1]!;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
      const login = await fetch(url, { redirect: 'manual' });
      const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
      const page = await fetch(new URL('/', url), { headers: { Cookie: cookie } });
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<div id="root">/);
      const status = await fetch(new URL('/api/getStatus', url), { method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/json' }, body: '[]' });
      expect(await status.json()).toMatchObject({ ok: true, result: { monitoring: true, database: file } });
      // `portent status` in another shell shows the address to the same user, from a private file.
      expect(runCli(['status', '--db', file]).stdout).toContain(`Web page:        ${url}`);
      expect(fs.statSync(`${file}.url`).mode & 0o777).toBe(0o600);
    } finally {
      child.kill('SIGTERM');
    }
    expect((await exit).code).toBe(0);
    expect(fs.existsSync(`${file}.url`)).toBe(false);
    // The token is never written to the log.
    const log = fs.readFileSync(path.join(path.dirname(file), 'logs', 'portent.log'), 'utf8');
    expect(log).toMatch(/"msg":"web page serving"/);
    expect(log).not.toMatch(/token=/);
  });
});
