import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { PORTENT_VERSION } from '../../src/shared/version';
import { repoRoot } from '../support/cli';

it('matches the version in package.json', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  expect(PORTENT_VERSION).toBe(pkg.version);
});
