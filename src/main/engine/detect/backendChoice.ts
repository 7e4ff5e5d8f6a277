import type { Logger } from '../log';
import { initBackend, type BackendPreference, type BackendSelection } from './backend/selectBackend';
import { installFastTransposedMatMul } from './wasmMatMul';
import { installSharedIdentity } from './wasmIdentity';

/**
 * The one place the detector picks its tf backend; on wasm it adds the faster matMul path and an
 * Identity that shares its input instead of copying it.
 */
export async function selectDetectionBackend(preference: BackendPreference = 'node', logger?: Logger): Promise<BackendSelection> {
  const selection = await initBackend(preference, logger ? { logger } : {});
  if (selection.name !== 'wasm') return selection;
  const added = [installFastTransposedMatMul() && 'transposed-left matMul via explicit transpose', installSharedIdentity() && 'Identity shares its input'].filter(Boolean);
  return added.length > 0 ? { ...selection, detail: `${selection.detail}; ${added.join('; ')}` } : selection;
}
