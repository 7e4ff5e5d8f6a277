import fs from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli';

/**
 * The Node that Portent declares (package.json `engines`), the one README names, the one
 * install-node.sh makes sure of and the one it installs agree, and every package `npm ci` installs
 * accepts that Node: otherwise `npm ci` warns EBADENGINE on the very Node Portent says it runs on.
 */
const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean; os?: string[] }>;
};
const script = fs.readFileSync(path.join(repoRoot, 'scripts', 'install-node.sh'), 'utf8');
const floor = semver.minVersion(pkg.engines.node)!;

describe('the Node Portent runs on', () => {
  it('is declared as a floor, and the lock file records the same', () => {
    expect(pkg.engines.node).toMatch(/^>=\d+\.\d+\.\d+$/);
    expect(lock.packages['']!.engines).toEqual(pkg.engines);
  });

  it('is accepted by every package npm ci installs, at the floor and at the version install-node.sh installs', () => {
    const installs = /^NODE_VERSION=(\S+)$/m.exec(script)![1]!;
    expect(semver.satisfies(installs, pkg.engines.node)).toBe(true);
    const refusing: string[] = [];
    for (const [where, entry] of Object.entries(lock.packages)) {
      const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (where === '' || range === undefined) continue;
      for (const version of [floor.version, installs]) {
        if (!semver.satisfies(version, range, { includePrerelease: true })) refusing.push(`${where} (${range}) refuses ${version}`);
      }
    }
    expect(refusing).toEqual([]);
  });

  it('is the one install-node.sh makes sure of, and the one README names', () => {
    const major = Number(/^NEED_MAJOR=(\d+)$/m.exec(script)![1]);
    const minor = Number(/^NEED_MINOR=(\d+)$/m.exec(script)![1]);
    expect(`${major}.${minor}.0`).toBe(floor.version);
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    expect(readme).toContain(`Portent needs Node.js ${major}.${minor} or later`);
    expect(readme).not.toMatch(/Node\.js 20\.19/);
  });
});
