import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRendererDir } from '../../../src/main/headless/commands/serve';
import { exitOf, repoRoot, waitForOutput } from '../../support/cli';
import { tempDir } from '../../support/tmp';

// Until `serve` is registered in cli.ts, the child runs the command object itself, with the
// process's own streams, as cli.ts would.
const entry = `
  const { serveCommand } = await import(${JSON.stringify(path.join(repoRoot, 'src/main/headless/commands/serve.ts'))});
  const { parseArgs } = await import('node:util');
  const { values, positionals } = parseArgs({ args: process.argv.slice(1), options: serveCommand.options, allowPositionals: true });
  process.exitCode = await serveCommand.run({ values, positionals, stdout: process.stdout, stderr: process.stderr, env: process.env });
`;

function startServe(args: string[]) {
  return spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', entry, '--', ...args], { cwd: repoRoot, env: process.env });
}

describe.runIf(process.platform === 'linux' && fs.existsSync(path.join(defaultRendererDir(), 'index.html')))('portent serve', () => {
  it('prints the address with its token, serves the page and the API, and stops on SIGTERM', async () => {
    const file = path.join(tempDir(), 'portent.db');
    const child = startServe(['--db', file, '--round-seconds', '1', '--no-capture']);
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
    } finally {
      child.kill('SIGTERM');
    }
    expect((await exit).code).toBe(0);
  });
});
