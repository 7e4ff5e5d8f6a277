import { ESLint } from 'eslint';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli';

// Lints snippets as if they lived at a path in the tree, with the project's real config,
// so a change to the layering rules that stops catching a violation fails here.
const eslint = new ESLint({ cwd: repoRoot });

async function ruleIdsFor(relativePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, relativePath) });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe('layering rules', () => {
  it.each([
    ['src/main/engine/store/x.ts', "import { app } from 'electron';\nexport const a = app;\n"],
    ['src/main/engine/x.ts', "import { App } from '../../renderer/src/App';\nexport const a = App;\n"],
    ['src/main/engine/x.ts', "import { createWindow } from '../desktop/window';\nexport const a = createWindow;\n"],
    ['src/main/headless/x.ts', "import { BrowserWindow } from 'electron';\nexport const a = BrowserWindow;\n"],
    ['src/renderer/src/x.ts', "import fs from 'node:fs';\nexport const a = fs;\n"],
    ['src/renderer/src/x.ts', "import fs from 'fs';\nexport const a = fs;\n"],
    ['src/renderer/src/x.ts', "import { ipcRenderer } from 'electron';\nexport const a = ipcRenderer;\n"],
    ['src/renderer/src/x.ts', "import { Monitor } from '../../main/engine/monitor';\nexport const a = Monitor;\n"],
    ['src/shared/x.ts', "import path from 'node:path';\nexport const a = path;\n"],
    ['src/shared/x.ts', "import { app } from 'electron';\nexport const a = app;\n"],
    ['src/preload/x.ts', "import fs from 'node:fs';\nexport const a = fs;\n"],
    ['src/preload/x.ts', "import { Monitor } from '../main/engine/monitor';\nexport const a = Monitor;\n"],
  ])('%s may not contain: %s', async (file, code) => {
    expect(await ruleIdsFor(file, code)).toContain('no-restricted-imports');
  });

  it.each([
    ['src/shared/x.ts', 'export const w = window.innerWidth;\n'],
    ['src/shared/x.ts', 'export const p = process.platform;\n'],
    ['src/renderer/src/x.ts', 'export const p = process.env;\n'],
  ])('%s may not use the global in: %s', async (file, code) => {
    expect(await ruleIdsFor(file, code)).toContain('no-restricted-globals');
  });

  it.each([
    ['src/main/engine/x.ts', "import fs from 'node:fs';\nexport const a = fs;\n"],
    ['src/main/desktop/x.ts', "import { app } from 'electron';\nimport { Monitor } from '../engine/monitor';\nexport const a = [app, Monitor];\n"],
    ['src/preload/x.ts', "import { contextBridge } from 'electron';\nexport const a = contextBridge;\n"],
    ['src/renderer/src/x.ts', "import { useState } from 'react';\nexport const a = useState;\n"],
  ])('%s may contain: %s', async (file, code) => {
    expect(await ruleIdsFor(file, code)).toEqual([]);
  });
});
