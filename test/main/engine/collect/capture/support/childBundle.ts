/**
 * Builds a TypeScript entry into one world-readable ESM file next to a copy of cap, so tests
 * can run it as a plain `node` child (as another user, or with extra Node flags) without a
 * TypeScript loader and whatever the permissions of the checkout.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../../../../..');

export interface ChildBundle {
  dir: string;
  script: string;
  remove(): void;
}

export async function bundleChild(entry: string): Promise<ChildBundle> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portent-child-'));
  const script = path.join(dir, 'child.mjs');
  await build({
    entryPoints: [path.join(here, entry)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: script,
    external: ['cap'],
    // dns-packet is CommonJS and requires Node built-ins, which ESM output cannot do without this.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'silent',
  });
  cpSync(path.join(repo, 'node_modules/cap'), path.join(dir, 'node_modules/cap'), { recursive: true });
  execFileSync('chmod', ['-R', 'a+rX', dir]);
  return { dir, script, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
