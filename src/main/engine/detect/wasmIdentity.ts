import * as tf from './tf';

/**
 * The wasm backend's Identity copies its input, and tfjs calls Identity to keep every tensor a
 * gradient will need (engine.clone): in a training step of the port model that is a copy of each
 * 12.6 MB input batch per layer it passes, of each 3 MB decoder output per op of the loss, and of
 * the 11 MB decoder kernel, all alive until the step ends, and the wasm heap keeps its high-water
 * mark for good. The cpu backend shares the data instead (a reference count, as Reshape does on
 * wasm too); tensors are never written in place, so sharing gives the same values and the same
 * results bit for bit (test/main/engine/detect/wasmIdentity.test.ts). Measured on a refit step
 * at 65,536 ports: the copies were 112 MB of its 211 MB live peak.
 */
type KernelArgs = Parameters<tf.KernelFunc>[0];

let installed = false;

export function installSharedIdentity(): boolean {
  if (installed) return true;
  const original = tf.getKernel('Identity', 'wasm');
  if (!original) return false;
  const copy = original.kernelFunc as (args: KernelArgs) => tf.TensorInfo;
  const shared = (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return copy(args);
    (args.backend as tf.KernelBackend & { incRef(dataId: tf.DataId): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ ...original, kernelFunc: shared as tf.KernelFunc });
  installed = true;
  return true;
}
