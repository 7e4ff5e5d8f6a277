import type { Logger } from '../log';
import { initBackend, type BackendPreference, type BackendSelection } from './backend/selectBackend';
import { installFastTransposedMatMul } from './wasmMatMul';

/** The one place the detector picks its tf backend; on wasm it adds the faster matMul path. */
export async function selectDetectionBackend(preference: BackendPreference = 'node', logger?: Logger): Promise<BackendSelection> {
  const selection = await initBackend(preference, logger ? { logger } : {});
  if (selection.name === 'wasm' && installFastTransposedMatMul()) {
    return { ...selection, detail: `${selection.detail}; transposed-left matMul via explicit transpose` };
  }
  return selection;
}
