import * as tf from './tf';

/**
 * The wasm backend's BatchMatMul is about 30 times slower when the left operand is transposed
 * (measured: [16384,1024]ᵀ·[16384,4] 270 ms against 22 ms untransposed), and gradients of every
 * Dense layer are exactly that product (xᵀ·dy). This wraps the kernel so a transposed-left product
 * is computed from an explicit transpose of whichever side is cheaper to copy, which brings one
 * training step of the detector from ~1.3 s to a fraction of it. One untransposed-left case is
 * rerouted too: a·bᵀ over a long shared dimension with a the smaller side (below). Results are
 * identical up to float summation order; test/main/engine/detect/wasmMatMul.test.ts checks them
 * against cpu.
 */
type KernelArgs = Parameters<tf.KernelFunc>[0];
type Info = tf.TensorInfo;

let installed = false;

/** A shared dimension this long makes a·bᵀ worth computing as (b·aᵀ)ᵀ (measured at 131,072; see below). */
const LONG_SHARED = 16384;

export function installFastTransposedMatMul(): boolean {
  if (installed) return true;
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transposeKernel = tf.getKernel('Transpose', 'wasm');
  if (!original || !transposeKernel) return false;
  const matMul = original.kernelFunc as (args: KernelArgs) => Info;
  const transposeFn = transposeKernel.kernelFunc as (args: KernelArgs) => Info;

  const wrapped = (args: KernelArgs): Info => {
    const { a, b } = args.inputs as { a: Info; b: Info };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const backend = args.backend as tf.KernelBackend;
    const sameBatch = a.shape.length === 3 && b.shape.length === 3 && a.shape[0] === b.shape[0];
    const plain = a.shape.length === 2 && b.shape.length === 2;
    if (!(sameBatch || plain)) return matMul(args);
    const swap = (x: Info): Info => transposeFn({ inputs: { x }, backend, attrs: { perm: x.shape.length === 3 ? [0, 2, 1] : [1, 0] } });
    const mm = (x: Info, y: Info, tb: boolean): Info => matMul({ inputs: { a: x, b: y }, backend, attrs: { transposeA: false, transposeB: tb } });
    /** (x·y)ᵀ */
    const productTransposed = (x: Info, y: Info): Info => {
      const prod = mm(x, y, false);
      const out = swap(prod);
      backend.disposeData(prod.dataId);
      return out;
    };
    const rank = a.shape.length;
    if (!transposeA) {
      // a·bᵀ with a long shared dimension and a the smaller operand: the decoder's input gradient
      // (dy [6, 131,072] · W[21, 131,072]ᵀ) takes 18 ms this way and 7 ms as (b·aᵀ)ᵀ with aᵀ made
      // explicitly; a short shared dimension (every other layer) is left as it is.
      const k = a.shape[rank - 1]!;
      if (!transposeB || k < LONG_SHARED || a.shape.reduce((p, d) => p * d, 1) > b.shape.reduce((p, d) => p * d, 1)) return matMul(args);
      const at = swap(a);
      const out = productTransposed(b, at);
      backend.disposeData(at.dataId);
      return out;
    }
    const m = a.shape[rank - 1]!;
    const n = transposeB ? b.shape[rank - 2]! : b.shape[rank - 1]!;
    const batch = rank === 3 ? a.shape[0]! : 1;
    const sizeA = a.shape.reduce((p, d) => p * d, 1);
    const sizeB = b.shape.reduce((p, d) => p * d, 1);
    if (transposeB) {
      // aᵀ·bᵀ = (b·a)ᵀ
      return productTransposed(b, a);
    }
    if (sizeA <= sizeB + batch * m * n) {
      const at = swap(a);
      const out = mm(at, b, false);
      backend.disposeData(at.dataId);
      return out;
    }
    // aᵀ·b = (bᵀ·a)ᵀ, copying b and the (small) product instead of the large a.
    const bt = swap(b);
    const out = productTransposed(bt, a);
    backend.disposeData(bt.dataId);
    return out;
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ ...original, kernelFunc: wrapped as tf.KernelFunc });
  installed = true;
  return true;
}
