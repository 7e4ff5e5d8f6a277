import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli';
// @ts-expect-error: a plain .mjs script without type declarations
import { installedElectron } from '../../scripts/start-desktop.mjs';

const electronPresent = (installedElectron as () => string | null)() !== null;

describe('npm start without an Electron binary', () => {
  // Where Electron's binary exists, `npm start` launches the real app, which a test here cannot
  // drive; that path is covered by the desktop smoke test where a binary is present.
  it.skipIf(electronPresent)('explains that the desktop app cannot start and how to run headless', () => {
    const r = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'start-desktop.mjs')], {
      cwd: repoRoot,
      env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/desktop app cannot start here: Electron's binary is not installed/);
    expect(r.stderr).toMatch(/npm run -s portent -- run/);
  });
});
