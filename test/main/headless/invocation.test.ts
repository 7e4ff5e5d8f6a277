import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { invocationOf, portentCommand, portentLine } from '../../../src/main/engine/invocation';
import { repoRoot, runCli } from '../../support/cli';
import { tempDir } from '../../support/tmp';

/** No inherited npm or PORTENT_COMMAND variables: each case sets its own. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('npm_') || k === 'PORTENT_COMMAND') delete env[k];
  return { ...env, ...extra };
}

describe('the command messages name', () => {
  it('is what the user can type: the npm script on a checkout, the built entry run by Node, or an installed command', () => {
    expect(portentCommand({})).toBe('portent');
    expect(portentCommand({ npm_lifecycle_event: 'portent' })).toBe('npm run -s portent --');
    expect(portentCommand({ npm_lifecycle_event: 'test' })).toBe('portent');
    expect(portentCommand({ PORTENT_COMMAND: '/usr/local/bin/portent', npm_lifecycle_event: 'portent' })).toBe('/usr/local/bin/portent');
    expect(portentLine('run', { npm_lifecycle_event: 'portent' })).toBe('npm run -s portent -- run');
    expect(invocationOf('/opt/portent/out/main/cli.js', {})).toBe('node /opt/portent/out/main/cli.js');
    expect(invocationOf('/work/src/main/headless/cli.ts', {})).toBeNull();
    expect(invocationOf('/opt/portent/out/main/cli.js', { PORTENT_COMMAND: 'portent' })).toBeNull();
  });

  it('under npm, a missing database and a bad flag tell the npm line, not a `portent` command a checkout does not have', () => {
    const db = path.join(tempDir(), 'none.db');
    const r = spawnSync('npm', ['run', '-s', 'portent', '--', 'status', '--db', db], { cwd: repoRoot, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('start the monitor with `npm run -s portent -- run`');
    const bad = spawnSync('npm', ['run', '-s', 'portent', '--', 'ports', '--frequency', '2'], { cwd: repoRoot, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
    expect(bad.stderr).toMatch(/\nUsage: npm run -s portent -- ports /);
  });

  it('run as the built entry by Node, messages name that entry', () => {
    const built = path.join(repoRoot, 'out', 'main', 'cli.js');
    // `npm test` builds before vitest; a bare `vitest run` on a tree never built has nothing to run.
    if (!fs.existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first`);
    const db = path.join(tempDir(), 'none.db');
    const r = spawnSync(process.execPath, [built, 'status', '--db', db], { cwd: repoRoot, env: cleanEnv(), encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`start the monitor with \`node ${built} run\``);
  });

  it('with nothing to go by, the installed `portent` name', () => {
    const db = path.join(tempDir(), 'none.db');
    const r = runCli(['status', '--db', db], cleanEnv());
    expect(r.stderr).toContain('start the monitor with `portent run`');
  });
});
