import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

// One config, three bundles: the Electron main process (ESM, dependencies left external so
// native modules load from node_modules), the sandboxed preload (CommonJS, self-contained, as
// sandboxed preloads cannot load ES modules or node_modules), and the React renderer.
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve(import.meta.dirname, 'src/main/desktop/index.ts'),
          // Packet capture runs in its own process (see collect/capture/README.md).
          captureChild: resolve(import.meta.dirname, 'src/main/engine/collect/capture/captureChild.ts'),
          // Detection runs in worker threads (see detect/detectInWorker.ts).
          worker: resolve(import.meta.dirname, 'src/main/engine/detect/worker.ts'),
          // What starts them, under a name of its own: bench/detect.ts measures the built detection
          // through it in a plain Node process, as the desktop app and `node out/main/cli.js` run it.
          detection: resolve(import.meta.dirname, 'src/main/engine/detect/detectInWorker.ts'),
          // The engine (monitor and queries) runs in its own thread (see host/engineClient.ts).
          engineWorker: resolve(import.meta.dirname, 'src/main/engine/host/engineWorker.ts'),
          // The headless CLI as plain JavaScript, for services: `node out/main/cli.js run`.
          cli: resolve(import.meta.dirname, 'src/main/headless/cli.ts'),
        },
        // Shared chunks beside the entries, not in a subfolder: the engine finds captureChild.js,
        // worker.js and engineWorker.js next to the module that starts them.
        output: { chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(import.meta.dirname, 'src/preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(import.meta.dirname, 'src/renderer'),
    plugins: [react()],
    build: {
      outDir: resolve(import.meta.dirname, 'out/renderer'),
      // electron-vite leaves bundles unminified; the page is also served over HTTP by `serve`.
      minify: true,
      rollupOptions: { input: { index: resolve(import.meta.dirname, 'src/renderer/index.html') } },
    },
  },
});
