// Lint enforces which code may import what, so the layering in docs/architecture.md holds
// by construction rather than by review:
//   src/shared      no Node, no DOM, no Electron: the contract and pure decisions.
//   src/main/engine plain Node: collect, store, detect, schedule. Never Electron, never a shell.
//   src/main/headless the CLI and local web page: Node plus the engine, never Electron.
//   src/main/desktop  the Electron shell: may use the engine and Electron.
//   src/preload     Electron's contextBridge plus shared; no Node built-ins, no engine.
//   src/renderer    DOM only: React plus shared; no Node, no Electron, no engine.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...new Set(builtinModules.flatMap((m) => [m, `${m}/*`, `node:${m}`, `node:${m}/*`]))];

const msg = {
  node: 'This layer runs without Node: do not import Node built-ins here (see docs/architecture.md).',
  electron: 'Only the desktop shell and the preload may import Electron (see docs/architecture.md).',
  engine: 'This layer may not reach into the engine; go through the shared contract.',
  renderer: 'The engine and shells never import the renderer.',
  shell: 'The engine never imports a shell (desktop or headless); shells import the engine.',
  desktop: 'The headless shell never imports the desktop shell.',
};

/** Builds a no-restricted-imports rule from named groups of forbidden imports. */
function forbid(...groups) {
  const patterns = [];
  for (const g of groups) {
    if (g === 'node') patterns.push({ group: nodeBuiltins, message: msg.node });
    if (g === 'electron') patterns.push({ group: ['electron', 'electron/*', '@electron/*'], message: msg.electron });
    if (g === 'engine') patterns.push({ group: ['**/main/**', '**/engine/**', '**/headless/**', '**/desktop/**'], message: msg.engine });
    if (g === 'renderer') patterns.push({ group: ['**/renderer/**'], message: msg.renderer });
    if (g === 'shell') patterns.push({ group: ['**/desktop/**', '**/headless/**'], message: msg.shell });
    if (g === 'desktop') patterns.push({ group: ['**/desktop/**'], message: msg.desktop });
    if (g === 'react') patterns.push({ group: ['react', 'react-dom', 'react/*', 'react-dom/*'], message: msg.engine });
  }
  return ['error', { patterns }];
}

const domGlobals = ['window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'location', 'fetch', 'HTMLElement'];
const nodeGlobals = ['process', 'Buffer', 'require', 'module', '__dirname', '__filename', 'global', 'setImmediate'];

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', 'dist/', 'release/', 'coverage/', 'test-output/', 'test/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['**/*.{js,mjs,cjs,ts}'],
    ignores: ['src/renderer/**', 'src/shared/**', 'src/preload/**'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['src/shared/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': forbid('node', 'electron', 'engine', 'renderer', 'react'),
      'no-restricted-globals': ['error', ...[...domGlobals, ...nodeGlobals].map((name) => ({ name, message: 'src/shared runs everywhere: no DOM or Node globals.' }))],
    },
  },
  {
    files: ['src/main/engine/**/*.ts'],
    rules: { 'no-restricted-imports': forbid('electron', 'renderer', 'shell', 'react') },
  },
  {
    files: ['src/main/headless/**/*.ts'],
    rules: { 'no-restricted-imports': forbid('electron', 'renderer', 'desktop') },
  },
  {
    files: ['src/main/desktop/**/*.ts'],
    rules: { 'no-restricted-imports': forbid('renderer') },
  },
  {
    files: ['src/preload/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'no-restricted-imports': forbid('node', 'engine', 'renderer') },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': forbid('node', 'electron', 'engine'),
      'no-restricted-globals': ['error', ...nodeGlobals.map((name) => ({ name, message: 'The renderer runs without Node.' }))],
    },
  },
);
