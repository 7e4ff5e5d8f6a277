#!/usr/bin/env node
// `npm start`: builds the desktop app and launches it with Electron. Electron fetches its binary
// on first use; where that cannot happen (no network, or ELECTRON_SKIP_BINARY_DOWNLOAD=1), this
// says so and points at the headless monitor, which runs the same engine.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const electronDir = path.join(root, 'node_modules', 'electron');

/** The Electron executable if it is already on disk, else null. */
export function installedElectron(dir = electronDir) {
  try {
    const rel = fs.readFileSync(path.join(dir, 'path.txt'), 'utf8').trim();
    const exe = path.join(dir, 'dist', rel);
    return fs.existsSync(exe) ? exe : null;
  } catch {
    return null;
  }
}

function explainMissing(reason) {
  process.stderr.write(
    [
      `Portent's desktop app cannot start here: Electron's binary is not installed (${reason}).`,
      '',
      'Run the same monitor headless instead:',
      '  npm run -s portent -- run',
      '',
      'To get the desktop app, run `npx install-electron` on a machine that can download',
      "Electron's release binary, or build the packages with `npm run dist` (see README).",
      '',
    ].join('\n'),
  );
}

function main() {
  let exe = installedElectron();
  if (!exe) {
    if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD === '1') {
      explainMissing('ELECTRON_SKIP_BINARY_DOWNLOAD=1 is set');
      return 1;
    }
    const install = spawnSync(process.execPath, [path.join(electronDir, 'install.js')], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
    exe = installedElectron();
    if (install.status !== 0 || !exe) {
      const why = (install.stderr || '').split('\n').find((l) => l.trim()) ?? `exit code ${install.status}`;
      explainMissing(`the download failed: ${why.trim()}`);
      return 1;
    }
  }
  const build = spawnSync(process.execPath, [path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) return build.status ?? 1;
  const child = spawn(exe, [root], { cwd: root, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return undefined;
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const code = main();
  if (code !== undefined) process.exitCode = code;
}
