#!/usr/bin/env node
/**
 * Root postinstall, in every install (production ones too: `npm ci --omit=dev`): applies
 * patches/cap+<version>.patch to node_modules/cap with GNU patch, then builds cap's addon from
 * the patched source, once. package.json's allowScripts denies cap's own install script
 * (npm 11.16 and later skip it), so the unpatched source is never built; with an older npm it
 * is built first and rebuilt here.
 *
 * Works offline: node-gyp is npm's bundled copy, and the Node headers are the ones the other
 * native modules build against (npm_config_nodedir, or node-gyp's cache). Nothing is done when
 * the patch is applied and the built addon already has the patch's stats().
 *
 *   node scripts/patch-cap.mjs          (what `npm ci` / `npm install` run)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const capDir = path.join(root, 'node_modules', 'cap');

function fail(message) {
  console.error(`\npatch-cap: ${message}\n`);
  process.exit(1);
}

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error) fail(`${what} could not start: ${r.error.message}`);
  if (r.status !== 0) fail(`${what} failed (exit ${r.status ?? r.signal}); see the output above.`);
}

function onPath(name) {
  const dirs = (process.env.PATH ?? '').split(path.delimiter);
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  return dirs.some((d) => exts.some((e) => d && existsSync(path.join(d, name + e))));
}

/** True when the built addon already carries the patch (loaded in a child: a crash stays there). */
function builtWithPatch() {
  const r = spawnSync(process.execPath, ['-e', `process.exit(typeof require(${JSON.stringify(capDir)}).Cap.prototype.stats === 'function' ? 0 : 1)`], { stdio: 'ignore' });
  return r.status === 0;
}

function nodeGypScript() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  // npm_execpath is .../npm/bin/npm-cli.js when run by npm.
  if (process.env.npm_execpath) candidates.push(path.join(path.dirname(path.dirname(process.env.npm_execpath)), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  // Run by hand: npm next to this node.
  const prefix = path.dirname(path.dirname(process.execPath));
  candidates.push(path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => c.endsWith('.js') && existsSync(c));
}

function nodedir() {
  const fromEnv = process.env.npm_config_nodedir;
  if (fromEnv) return fromEnv;
  try {
    const v = execFileSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return v && v !== 'undefined' && v !== 'null' ? v : undefined;
  } catch {
    return undefined;
  }
}

if (!existsSync(capDir)) {
  console.log('patch-cap: cap is not installed; nothing to do');
  process.exit(0);
}

const version = JSON.parse(readFileSync(path.join(capDir, 'package.json'), 'utf8')).version;
const patchFile = path.join(root, 'patches', `cap+${version}.patch`);
if (!existsSync(patchFile)) {
  fail(`no patch for cap ${version} (patches/ has ${readdirSync(path.join(root, 'patches')).join(', ') || 'nothing'}): Portent does not capture with an unpatched cap; install the cap version package-lock.json names`);
}
if (!onPath('patch')) fail('GNU patch is not installed (Debian/Ubuntu: apt install patch; it comes with build-essential). Then run: node scripts/patch-cap.mjs');
// The patch names files as a/node_modules/cap/...: -p1 from the project's folder.
const patchArgs = ['-p1', '--batch', '--silent', '-d', root, '-i', patchFile];
const alreadyApplied = spawnSync('patch', [...patchArgs, '--dry-run', '--reverse', '--force'], { stdio: 'ignore' }).status === 0;
if (alreadyApplied) console.log(`patch-cap: ${path.relative(root, patchFile)} already applied`);
else run('patch', [...patchArgs, '--forward'], `applying ${path.relative(root, patchFile)}`);

if (builtWithPatch()) {
  console.log('patch-cap: cap addon already built from the patched source');
  process.exit(0);
}

if (process.platform !== 'win32') {
  const compiler = process.env.CXX ? process.env.CXX.split(' ')[0] : ['c++', 'g++', 'clang++'].find(onPath);
  const missing = [!onPath('make') && 'make', !(compiler && (path.isAbsolute(compiler) ? existsSync(compiler) : onPath(compiler))) && 'a C++ compiler (c++/g++/clang++)', !onPath('python3') && !onPath('python') && 'python3'].filter(Boolean);
  if (missing.length) {
    fail(`cannot rebuild cap after patching: ${missing.join(', ')} not found on PATH.\n` +
      '  Debian/Ubuntu: apt install build-essential python3 libpcap-dev; macOS: xcode-select --install.\n' +
      '  Then run: node scripts/patch-cap.mjs');
  }
}

const gyp = nodeGypScript();
if (!gyp) fail("npm's bundled node-gyp was not found; install npm alongside node, or run `npx node-gyp rebuild` in node_modules/cap");
const dir = nodedir();
run(process.execPath, [gyp, 'rebuild', '--directory', capDir, ...(dir ? [`--nodedir=${dir}`] : [])], 'node-gyp rebuild of cap');
if (!builtWithPatch()) fail('cap was rebuilt but its addon has no stats(): the patch did not take effect');
console.log('patch-cap: cap patched and rebuilt');
