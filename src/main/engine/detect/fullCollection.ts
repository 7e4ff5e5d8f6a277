import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * What gc() is asked for. From V8 12 (Node 22) on, a plain major collection keeps the pages it
 * freed in a pool for reuse, still resident: at 30 days x 2,000 listeners that was 40-50 MB of
 * the port model's thread still held when the refit grew the wasm heap, and the hourly run peaked
 * at 410-421 MB instead of 344-355. The last-resort flavour collects until nothing more is freed and
 * gives the freed pages back to the system. V8 11 (Node 20) takes any options object for a young
 * generation collection, so there gc() gets none, which is a major collection; its pages are not
 * pooled.
 */
export function collectionOptions(v8Version = process.versions.v8): object | undefined {
  const major = Number(v8Version.split('.')[0]);
  return major >= 12 ? { type: 'major', execution: 'sync', flavor: 'last-resort' } : undefined;
}

/**
 * V8's full collection, for the detector to call between its phases (DetectorOptions.collectGarbage):
 * a run reads far more than it keeps (a million socket rows for a refit, the traffic windows'
 * flows), and V8 left alone collects the old generation only when it has grown well past what is
 * live, so the port model's garbage was still resident when the traffic model read its windows.
 * The function is taken from a fresh context with --expose-gc set for that moment only;
 * undefined if this V8 does not give it.
 */
export function fullCollection(): (() => void) | undefined {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    if (typeof gc !== 'function') return undefined;
    const options = collectionOptions();
    return options ? () => (gc as (o: object) => void)(options) : () => (gc as () => void)();
  } catch {
    return undefined;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}
