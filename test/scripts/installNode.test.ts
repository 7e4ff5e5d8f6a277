import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli';
import { tempDir } from '../support/tmp';

/**
 * scripts/install-node.sh, which install-system-deps.sh ends with: the Node on PATH must be 22.13
 * or later, and npm's `nodedir` must hold its headers. The installs go into a folder of the
 * test's (PORTENT_NODE_PREFIX) and the npm settings into a file of the test's; npm is told to
 * stay offline, so the Node tarball comes from npm's cache, where the setup that ran before these
 * tests put it on a machine whose own Node was older (CI's). Where it is not cached, the install
 * case says so and is skipped: the test fetches nothing from the network.
 */
const SCRIPT = path.join(repoRoot, 'scripts', 'install-node.sh');
const nodeDir = path.dirname(process.execPath);
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const newEnough = major > 22 || (major === 22 && minor >= 13);

/** A `node` that says it is 20.20.2 when asked its version, and is the real one otherwise. */
function olderNode(dir: string): string {
  const bin = path.join(dir, 'old-node');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(
    path.join(bin, 'node'),
    `#!/bin/sh\nif [ "$1" = "-p" ] && [ "$2" = "process.versions.node" ]; then echo 20.20.2; exit 0; fi\nexec ${process.execPath} "$@"\n`,
    { mode: 0o755 },
  );
  return bin;
}

/** Node 20's headers, as Debian's packages of Node 20 leave them, for a stale `nodedir`. */
function node20Headers(dir: string): string {
  const root = path.join(dir, 'node20');
  fs.mkdirSync(path.join(root, 'include', 'node'), { recursive: true });
  fs.writeFileSync(path.join(root, 'include', 'node', 'node_version.h'), '#define NODE_MAJOR_VERSION 20\n#define NODE_MINOR_VERSION 20\n');
  return root;
}

/** The test's environment without npm's settings (`npm test` exports them, nodedir among them). */
const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_/i.test(k)));

function run(script: string, env: Record<string, string>) {
  return spawnSync('bash', [script], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000, env: { ...baseEnv, npm_config_offline: 'true', ...env } });
}

describe('install-node.sh', () => {
  it.runIf(newEnough)('leaves a Node of 22.13 or later alone, and nodedir with it when it holds its headers', () => {
    const dir = tempDir('portent-node-');
    const prefix = path.join(dir, 'prefix');
    const npmrc = path.join(dir, 'npmrc');
    fs.writeFileSync(npmrc, 'fund=false\n');
    const r = run(SCRIPT, { PATH: `${nodeDir}:${process.env.PATH}`, PORTENT_NODE_PREFIX: prefix, npm_config_userconfig: npmrc });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`Node.js ${process.versions.node} is new enough (22.13 or later).\n`);
    expect(fs.existsSync(prefix)).toBe(false);
    expect(fs.readFileSync(npmrc, 'utf8')).toBe('fund=false\n');
  });

  it.runIf(newEnough)('refuses a nodedir that holds another Node\'s headers when it cannot mend it', () => {
    const dir = tempDir('portent-node-');
    const npmrc = path.join(dir, 'npmrc');
    fs.writeFileSync(npmrc, 'fund=false\n');
    // Set from the environment, not the user's npmrc: nothing the script may rewrite.
    const r = run(SCRIPT, { PATH: `${nodeDir}:${process.env.PATH}`, npm_config_userconfig: npmrc, npm_config_nodedir: node20Headers(dir) });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/npm's nodedir is .*node20, which holds no headers of Node \d+: native modules would be built for another Node/);
    expect(fs.readFileSync(npmrc, 'utf8')).toBe('fund=false\n');
  });

  it('installs Node 22 beside an older one, and points npm\'s nodedir at its headers', (ctx) => {
    const dir = tempDir('portent-node-');
    const prefix = path.join(dir, 'prefix');
    const npmrc = path.join(dir, 'npmrc');
    const stale = node20Headers(dir);
    fs.writeFileSync(npmrc, `fund=false\nnodedir=${stale}\n`);
    const env = { PATH: `${path.join(prefix, 'bin')}:${olderNode(dir)}:${process.env.PATH}`, PORTENT_NODE_PREFIX: prefix, npm_config_userconfig: npmrc };
    const r = run(SCRIPT, env);
    if (/ENOTCACHED/.test(r.stderr)) ctx.skip('the Node 22 tarball is not in npm\'s cache, and this test does not fetch it');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Installed Node.js 22.23.5 in');
    expect(r.stdout).toContain('(this machine had 20.20.2)');
    expect(r.stdout).toContain('run `npm ci` again in any checkout installed under Node 20.20.2.');
    const installed = spawnSync(path.join(prefix, 'bin', 'node'), ['--version'], { encoding: 'utf8' });
    expect(installed.stdout.trim()).toBe('v22.23.5');
    expect(fs.readFileSync(path.join(prefix, 'include', 'node', 'node_version.h'), 'utf8')).toMatch(/#define NODE_MAJOR_VERSION 22\b/);
    expect(fs.readFileSync(npmrc, 'utf8')).toBe(`fund=false\nnodedir=${prefix}\n`);
    expect(fs.readFileSync(`${npmrc}.portent-old`, 'utf8')).toBe(`fund=false\nnodedir=${stale}\n`);

    // Run again, it finds the new Node and changes nothing.
    const again = run(SCRIPT, env);
    expect(again.status).toBe(0);
    expect(again.stdout).toBe('Node.js 22.23.5 is new enough (22.13 or later).\n');

    // The same script with another digest pinned (a tarball that is not the one it trusts) installs nothing.
    const tampered = path.join(dir, 'install-node-other-digest.sh');
    fs.writeFileSync(tampered, fs.readFileSync(SCRIPT, 'utf8').replace(/\[x64\]='sha512-./, "[x64]='sha512-!").replace(/\[arm64\]='sha512-./, "[arm64]='sha512-!"));
    const elsewhere = path.join(dir, 'elsewhere');
    const refused = run(tampered, { ...env, PATH: `${path.join(elsewhere, 'bin')}:${olderNode(path.join(dir, 'x'))}:${process.env.PATH}`, PORTENT_NODE_PREFIX: elsewhere });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/does not match its pinned digest \(got sha512-.*\); nothing was installed/);
    expect(fs.existsSync(elsewhere)).toBe(false);
  });
});
