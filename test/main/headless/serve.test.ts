import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { defaultRendererDir, serveAnnouncement } from '../../../src/main/headless/commands/serve';
import { exitOf, repoRoot, runCli, startCli, waitForOutput } from '../../support/cli';
import { tempDir } from '../../support/tmp';

describe.runIf(process.platform === 'linux' && fs.existsSync(path.join(defaultRendererDir(), 'index.html')))('portent serve', () => {
  it('under a service (stdout a pipe) never prints its token: it says where the address is kept, serves the page and the API, and stops on SIGTERM', async () => {
    const file = path.join(tempDir(), 'portent.db');
    const child = startCli(['serve', '--db', file, '--round-seconds', '1', '--no-capture']);
    const exit = exitOf(child);
    let printed: string;
    let errors = '';
    child.stderr.on('data', (c: Buffer) => (errors += c.toString()));
    try {
      printed = await waitForOutput(child.stdout, /Portent is serving at .*\n/);
      expect(printed).toContain(`the address with its access token is in ${file}.url`);
      const origin = /Portent is serving at (http:\/\/127\.0\.0\.1:\d+)\//.exec(printed)![1]!;
      // `portent status` in another shell shows the address to the same user, from a private file.
      const url = fs.readFileSync(`${file}.url`, 'utf8').trim();
      expect(url).toMatch(new RegExp(`^${origin}/#token=[A-Za-z0-9_-]{43}$`));
      expect(fs.statSync(`${file}.url`).mode & 0o777).toBe(0o600);
      expect(runCli(['status', '--db', file]).stdout).toContain(`Web page:        ${url}`);
      const page = await fetch(`${origin}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<div id="root">/);
      const token = new URL(url).hash.slice('#token='.length);
      const status = await fetch(`${origin}/api/getStatus`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: '[]' });
      expect(await status.json()).toMatchObject({ ok: true, result: { monitoring: true, database: file } });
    } finally {
      child.kill('SIGTERM');
    }
    expect((await exit).code).toBe(0);
    expect(fs.existsSync(`${file}.url`)).toBe(false);
    // The token is in neither stream, nor in the log.
    expect(printed + errors).not.toMatch(/token=/);
    const log = fs.readFileSync(path.join(path.dirname(file), 'logs', 'portent.log'), 'utf8');
    expect(log).toMatch(/"msg":"web page serving"/);
    expect(log).not.toMatch(/token=/);
  });

  it.runIf(fs.existsSync('/usr/bin/script'))('on a terminal prints the address with its token, to open', async () => {
    const file = path.join(tempDir(), 'portent.db');
    // script(1) gives the command a pseudo-terminal for stdout, as an interactive shell would.
    const cli = ['node', '--import', 'tsx', path.join(repoRoot, 'src/main/headless/cli.ts'), 'serve', '--db', file, '--round-seconds', '1', '--no-capture'];
    const child = spawn('script', ['-qfec', cli.map((a) => `'${a}'`).join(' '), '/dev/null'], { cwd: repoRoot });
    const exit = new Promise((resolve) => child.once('exit', resolve));
    try {
      const out = await waitForOutput(child.stdout, /Portent is at (\S+)\r?\n/);
      expect(/Portent is at (\S+)\r?\n/.exec(out)![1]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/);
    } finally {
      child.kill('SIGTERM');
    }
    await exit;
  });
});

describe('serveAnnouncement', () => {
  it('gives the token only to a terminal', () => {
    const url = 'http://127.0.0.1:8765/#token=abc';
    expect(serveAnnouncement(url, '/var/lib/portent/portent.db.url', true)).toBe(`Portent is at ${url}\n`);
    const service = serveAnnouncement(url, '/var/lib/portent/portent.db.url', false);
    expect(service).toBe('Portent is serving at http://127.0.0.1:8765/; the address with its access token is in /var/lib/portent/portent.db.url (readable by this user only), and `portent status` shows it.\n');
    expect(service).not.toContain('abc');
  });
});
