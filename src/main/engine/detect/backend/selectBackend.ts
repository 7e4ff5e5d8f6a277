/**
 * Picks the TensorFlow.js backend the detector trains and scores on, best first:
 *
 * 1. 'tensorflow' from @tensorflow/tfjs-node (native libtensorflow) when that optional dependency
 *    is installed. Its install script downloads libtensorflow, which fails on machines without
 *    access to Google's storage, so it is often missing; that is expected and only logged.
 * 2. 'wasm' from @tensorflow/tfjs-backend-wasm (binaries ship inside the package). The detector's
 *    model (reshape, Dense, LSTM) trains on its stock kernels; ../backendChoice.ts only adds a
 *    faster path for one matMul case.
 *    Variants, as measured on Node 20 (SIMD validates on 22 too): SIMD works and is ~3x faster than
 *    the scalar binary, so it is used when WebAssembly.validate accepts SIMD (tfjs's own check).
 *    The threaded-SIMD binary cannot work in Node with tfjs 4.22: tfjs forces
 *    WASM_HAS_MULTITHREAD_SUPPORT off when IS_NODE (tensorflow/tfjs#3830), and forcing it on fails
 *    because emscripten starts its pthread workers from a blob: URL, which node:worker_threads
 *    rejects (ERR_WORKER_PATH). Threads would need cross-origin isolation in a browser anyway. So
 *    wasm here is single-threaded; run training in a worker thread so it never blocks the process
 *    drawing the UI.
 * 3. 'cpu' (plain JS), 5 to 20 times slower than wasm on the detector's shapes.
 *
 * The "Hi, looks like you are running TensorFlow.js in Node.js" banner comes from the cpu backend
 * on its first tensor write. It is never printed when tensorflow or wasm is chosen (the cpu backend
 * is then never written to); when cpu is chosen, that first write is done here with tfjs logging
 * muted, and the reason tfjs-node is not in use goes to our own log instead.
 */
import * as tf from '../tf';
import type * as TfjsWasm from '@tensorflow/tfjs-backend-wasm';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { silentLogger, type Logger } from '../../log';

export type BackendPreference = 'node' | 'wasm' | 'cpu';
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendSelection {
  name: BackendName;
  /** Human-readable: the variant in use and why better backends were skipped. */
  detail: string;
}

export interface InitBackendOptions {
  logger?: Logger;
  /**
   * Directory holding tfjs-backend-wasm's .wasm files. Defaults to the installed package's dist/;
   * for a packaged app whose binaries live elsewhere (unpacked beside an asar archive, say).
   */
  wasmDir?: string;
}

const TFJS_NODE = '@tensorflow/tfjs-node';
const WASM_FILES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;

const requireHere = createRequire(import.meta.url);

type Attempt = { ok: true; detail: string } | { ok: false; reason: string };

function errorText(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

function isModuleNotFound(err: unknown, specifier: string): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') && errorText(err).includes(specifier);
}

async function tryTfjsNode(): Promise<Attempt> {
  // require() rather than import(): tfjs-node is CommonJS and so is the copy of tfjs-core Node
  // loads for us (its "main"), so tfjs-node (through its own @tensorflow/tfjs) and ../tf share one
  // module cache and one tfjs-core engine; a bundler-transformed import() could also resolve a
  // different copy.
  try {
    requireHere.resolve(TFJS_NODE);
  } catch (err) {
    if (isModuleNotFound(err, TFJS_NODE)) return { ok: false, reason: `${TFJS_NODE} is not installed` };
    return { ok: false, reason: `${TFJS_NODE} could not be resolved: ${errorText(err)}` };
  }
  try {
    requireHere(TFJS_NODE);
  } catch (err) {
    // Typically the native addon or libtensorflow is missing or built for another Node ABI.
    return { ok: false, reason: `${TFJS_NODE} is installed but failed to load: ${errorText(err)}` };
  }
  if (tf.findBackendFactory('tensorflow') == null) {
    return {
      ok: false,
      reason: `${TFJS_NODE} loaded but registered no 'tensorflow' backend with this tfjs-core (two copies of tfjs-core installed?)`,
    };
  }
  if (!(await tf.setBackend('tensorflow'))) {
    return { ok: false, reason: `${TFJS_NODE}'s 'tensorflow' backend failed to initialise` };
  }
  return { ok: true, detail: `${TFJS_NODE} (native libtensorflow)` };
}

function defaultWasmDir(): string {
  return path.dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
}

async function tryWasm(wasmDir: string | undefined): Promise<Attempt> {
  let wasm: typeof TfjsWasm;
  let dir: string;
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
    dir = wasmDir ?? defaultWasmDir();
  } catch (err) {
    return { ok: false, reason: `@tensorflow/tfjs-backend-wasm could not be loaded: ${errorText(err)}` };
  }
  const files = Object.fromEntries(WASM_FILES.map((f) => [f, path.join(dir, f)]));
  const missing = Object.values(files).filter((f) => !existsSync(f));
  if (missing.length > 0) return { ok: false, reason: `wasm binaries not found: ${missing.join(', ')}` };

  try {
    // Explicit file paths: emscripten's default (next to the loaded script) breaks as soon as a
    // bundler moves the JS away from the .wasm files.
    wasm.setWasmPaths(files);
  } catch (err) {
    // setWasmPaths throws once an earlier initialisation attempt aborted.
    return { ok: false, reason: `wasm backend cannot be configured: ${errorText(err)}` };
  }

  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const tried: string[] = [];
  for (const useSimd of simd ? [true, false] : [false]) {
    const variant = useSimd ? 'simd' : 'scalar';
    // Only consulted while the backend initialises; turning SIMD off lets a runtime that validates
    // SIMD but fails to instantiate it still get the scalar binary.
    tf.env().set('WASM_HAS_SIMD_SUPPORT', useSimd);
    if (await tf.setBackend('wasm')) {
      let threads = 1;
      try {
        threads = wasm.getThreadsCount();
      } catch {
        // Only throws before initialisation, which just succeeded.
      }
      const fallback = tried.length > 0 ? `; ${tried.join(', ')} failed` : '';
      return { ok: true, detail: `wasm (${variant}, ${threads} thread${threads === 1 ? '' : 's'}) from ${dir}${fallback}` };
    }
    tried.push(variant);
  }
  return { ok: false, reason: `wasm backend failed to initialise (${tried.join(', ')}; tfjs logged why)` };
}

/** Lets the cpu backend's one-time Node.js banner fire while tfjs logging is muted. */
function primeCpuQuietly(): void {
  const env = tf.env();
  const prod = env.getBool('PROD');
  env.set('PROD', true);
  try {
    tf.tidy(() => {
      tf.scalar(0);
    });
  } finally {
    env.set('PROD', prod);
  }
}

async function select(preference: BackendPreference, options: InitBackendOptions): Promise<BackendSelection> {
  const log = options.logger ?? silentLogger;
  const skipped: string[] = [];

  const pick = (name: BackendName, detail: string): BackendSelection => {
    const full = skipped.length > 0 ? `${detail}; skipped: ${skipped.join('; ')}` : detail;
    log.info('tfjs backend selected', { backend: name, detail: full });
    return { name, detail: full };
  };

  if (preference === 'node') {
    const node = await tryTfjsNode();
    if (node.ok) return pick('tensorflow', node.detail);
    skipped.push(node.reason);
    log.info('tfjs-node not used', { reason: node.reason });
  } else {
    skipped.push(`${TFJS_NODE} not tried (preference '${preference}')`);
  }

  if (preference !== 'cpu') {
    const wasm = await tryWasm(options.wasmDir);
    if (wasm.ok) return pick('wasm', wasm.detail);
    skipped.push(wasm.reason);
    log.warn('tfjs wasm backend not used', { reason: wasm.reason });
  } else {
    skipped.push(`wasm not tried (preference 'cpu')`);
  }

  if (!(await tf.setBackend('cpu'))) throw new Error(`no TensorFlow.js backend could be initialised: ${skipped.join('; ')}`);
  primeCpuQuietly();
  return pick('cpu', 'cpu (plain JavaScript)');
}

const selections = new Map<string, Promise<BackendSelection>>();

/**
 * Initialises the best available backend, trying them in the order above starting from
 * `preference` ('node', the default, tries all three; 'wasm' skips tfjs-node; 'cpu' uses only cpu)
 * and makes it tfjs's active backend. Never throws because a better backend is missing; throws
 * only if not even cpu works. Repeated calls with the same preference share one initialisation.
 */
export function initBackend(preference: BackendPreference = 'node', options: InitBackendOptions = {}): Promise<BackendSelection> {
  const key = `${preference}\0${options.wasmDir ?? ''}`;
  let pending = selections.get(key);
  if (pending == null) {
    pending = select(preference, options).catch((err: unknown) => {
      selections.delete(key);
      throw err;
    });
    selections.set(key, pending);
  }
  return pending.then(async (selection) => {
    // Another preference may have switched the active backend since this one was chosen.
    if (tf.getBackend() !== selection.name) await tf.setBackend(selection.name);
    return selection;
  });
}
