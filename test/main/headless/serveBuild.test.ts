import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureWebPage } from '../../../src/main/headless/commands/serve';
import { sink } from '../../support/cli';
import { tempDir } from '../../support/tmp';

/**
 * `serve` on a checkout that was never built builds the page once. The real build takes the whole
 * tree, so these cases run `npm run -s build` in a small package of their own, whose build script
 * writes the page (or fails): what is under test is when serve builds, what it says and what it
 * does when the build fails, not the bundler.
 */
function checkout(buildScript: string | null): string {
  const root = tempDir();
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'page', private: true, scripts: buildScript ? { build: buildScript } : {} }));
  if (buildScript) fs.writeFileSync(path.join(root, 'electron.vite.config.ts'), 'export default {};\n');
  return root;
}

const WRITES_PAGE = `node -e "require('fs').mkdirSync('out/renderer',{recursive:true});require('fs').writeFileSync('out/renderer/index.html','<div id=root></div>')"`;

describe('serve builds its web page once on a checkout', () => {
  it('builds a checkout never built, saying so, then finds the page without building again', () => {
    const root = checkout(WRITES_PAGE);
    const err = sink();
    expect(ensureWebPage(root, err.stream)).toBe(true);
    expect(err.text()).toBe('portent serve: the web page is not built yet; building it once (npm run build)…\n');
    expect(fs.readFileSync(path.join(root, 'out', 'renderer', 'index.html'), 'utf8')).toContain('root');
    const again = sink();
    expect(ensureWebPage(root, again.stream)).toBe(true);
    expect(again.text()).toBe('');
  });

  it('a failing build is reported with its last lines and how to see the rest', () => {
    const root = checkout(`node -e "console.error('vite: cannot resolve ./App'); process.exit(3)"`);
    const err = sink();
    expect(ensureWebPage(root, err.stream)).toBe(false);
    expect(err.text()).toContain('portent serve: building the web page failed:\nvite: cannot resolve ./App\n');
    expect(err.text()).toContain(`Run \`npm run build\` in ${root} to see why.`);
  });

  it('an installed tree without the page (no build configuration) is not built: serve says what is missing', () => {
    const root = checkout(null);
    const err = sink();
    expect(ensureWebPage(root, err.stream)).toBe(false);
    expect(err.text()).toMatch(/^portent serve: the web page is not built \(.*out\/renderer\/index\.html is missing\); build it with `npm run build` in a checkout/);
    expect(fs.existsSync(path.join(root, 'out'))).toBe(false);
  });
});
