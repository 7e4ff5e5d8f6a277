import { Worker } from 'node:worker_threads';

/**
 * Starts the worker entry `name` that sits beside the module at `moduleUrl` (its
 * `import.meta.url`). Built, the entry is plain `name.js`. Under tsx (tests, the CLI from a
 * checkout) it is the `name.ts` source, and Node 20 does not apply `--import tsx` from a
 * Worker's execArgv to the worker's entry module, so a one-line bootstrap registers tsx's loader
 * in the worker first and then imports the entry.
 */
export function startWorkerBeside(moduleUrl: string, name: string, workerData: unknown): Worker {
  if (!moduleUrl.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, moduleUrl), { workerData });
  const api = import.meta.resolve('tsx/esm/api');
  const entry = new URL(`./${name}.ts`, moduleUrl).href;
  const bootstrap = `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}
