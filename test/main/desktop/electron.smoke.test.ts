import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../support/tmp';

// Launches the built desktop app in real Electron through Playwright: the tray comes up, the
// window opens on app://portent/, and a contract call goes through the preload and IPC. It runs
// only where Electron's binary is installed and the app is built; elsewhere it is reported
// skipped with the reason.

const repo = path.join(import.meta.dirname, '../../..');
const require = createRequire(import.meta.url);

/** The Electron executable, or why there is none. Never triggers Electron's download. */
function electronBinary(): { path: string } | { missing: string } {
  const dir = path.join(repo, 'node_modules/electron');
  // require('electron') outside Electron downloads the binary when path.txt or the file is
  // missing; look first, so that a machine without network does not try.
  const pathTxt = path.join(dir, 'path.txt');
  if (!process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    if (!fs.existsSync(pathTxt)) return { missing: 'the Electron binary is not installed (node_modules/electron/path.txt is missing)' };
    const expected = path.join(dir, 'dist', fs.readFileSync(pathTxt, 'utf8').trim());
    if (!fs.existsSync(expected)) return { missing: `the Electron binary is not installed (${expected} is missing)` };
  }
  try {
    const exe = require('electron') as unknown;
    if (typeof exe !== 'string' || !fs.existsSync(exe)) return { missing: `require('electron') gave no executable file (${String(exe)})` };
    return { path: exe };
  } catch (err) {
    return { missing: `require('electron') failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function whyNot(): string | null {
  const electron = electronBinary();
  if ('missing' in electron) return electron.missing;
  if (!fs.existsSync(path.join(repo, 'out/main/index.js')) || !fs.existsSync(path.join(repo, 'out/renderer/index.html'))) return 'the app is not built (run `npm run build`)';
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return 'no display (run under xvfb-run)';
  return null;
}

const reason = whyNot();

async function waitFor(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(reason !== null)(`desktop app in Electron${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('starts with a tray, opens its window on app://portent/ and answers over IPC', async () => {
    const { _electron } = await import('playwright-core');
    const home = tempDir();
    const binary = electronBinary();
    if (!('path' in binary)) throw new Error(binary.missing);
    const app = await _electron.launch({ executablePath: binary.path, args: [repo], env: { ...process.env, PORTENT_HOME: home, ELECTRON_RENDERER_URL: '' }, timeout: 60_000 });
    try {
      const logFile = path.join(home, 'logs/desktop.log');
      await waitFor(() => fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes('"msg":"tray ready"'), 'the tray');

      const page = await app.firstWindow();
      await page.waitForLoadState('domcontentloaded');
      expect(page.url()).toMatch(/^app:\/\/portent\/index\.html/);

      const status = await page.evaluate(() => (globalThis as unknown as { portent: { getStatus(): Promise<{ version: string; monitoring: boolean }> } }).portent.getStatus());
      expect(status.monitoring).toBe(true);
      expect(typeof status.version).toBe('string');
      // Arguments outside the contract are refused before any handler runs.
      const refused = await page.evaluate(() =>
        (globalThis as unknown as { portent: { getIncident(id: unknown): Promise<unknown> } }).portent.getIncident(-1).then(
          () => 'accepted',
          (err: Error) => err.message,
        ),
      );
      expect(refused).toContain('Invalid arguments for getIncident');
      // The page has no Node.
      expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');

      // Closing the window hides it; the app stays in the tray.
      await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]?.close());
      const windows = await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().map((w) => w.isVisible()));
      expect(windows).toEqual([false]);
    } finally {
      await app.evaluate(({ app: electronApp }) => electronApp.quit()).catch(() => {});
      await app.close().catch(() => {});
    }
  });
});
