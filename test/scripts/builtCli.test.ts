import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitOf, repoRoot, waitForOutput } from '../support/cli';
import { tempDir } from '../support/tmp';

const built = path.join(repoRoot, 'out', 'main', 'cli.js');

/**
 * The built CLI is what a service runs (docs/service.md). It must find its capture child and
 * detection worker beside its own chunks, with no TypeScript loader. `npm test` builds first.
 */
describe.runIf(process.platform === 'linux')('node out/main/cli.js', () => {
  it.skipIf(!fs.existsSync(built))('runs the monitor with capture and detection from the build alone', async () => {
    const file = path.join(tempDir(), 'portent.db');
    const child = spawn(process.execPath, [built, 'run', '--round-seconds', '1', '--detect-every', '2', '--iface', 'lo', '--db', file], { cwd: tempDir() });
    const exit = exitOf(child);
    let log: string;
    try {
      log = await waitForOutput(child.stderr, /"msg":"detection finished"/, 90_000);
    } finally {
      child.kill('SIGTERM');
    }
    expect((await exit).code).toBe(0);
    expect(log).toMatch(/"msg":"packet capture on"/);
    expect(log).not.toMatch(/"level":"error"/);
  }, 120_000);
});
