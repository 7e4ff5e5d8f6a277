import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Starts the worker entry `name` that sits beside the module at `moduleUrl` (its
 * `import.meta.url`). Built, the entry is plain `name.js`; under tsx, `name.ts` (see startWorkerAt).
 */
export function startWorkerBeside(moduleUrl: string, name: string, workerData: unknown): Worker {
  return startWorkerAt(new URL(`./${moduleUrl.endsWith('.ts') ? `${name}.ts` : `${name}.js`}`, moduleUrl).href, workerData);
}

/**
 * Starts a worker thread on the module at `entry` (a file path or file: URL). A `.ts` entry runs
 * under tsx (tests, the CLI from a checkout): Node does not apply `--import tsx` from a
 * Worker's execArgv to the worker's entry module, so a one-line bootstrap registers tsx's loader
 * in the worker first and then imports the entry.
 */
export function startWorkerAt(entry: string, workerData?: unknown): Worker {
  const url = entry.startsWith('file:') ? entry : pathToFileURL(entry).href;
  if (!url.endsWith('.ts')) return new Worker(new URL(url), { workerData });
  const api = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
