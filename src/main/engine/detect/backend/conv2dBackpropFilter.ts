/**
 * `Conv2DBackpropFilter` for the tfjs wasm backend, which ships without it (tfjs 4.22). Training
 * any conv1d/conv2d/conv2dTranspose layer asks for it, so without this kernel `model.fit` on wasm
 * dies with "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'".
 *
 * dW[kh, kw, c, co] = sum over b, oh, ow of x[b, oh*sh + kh - top, ow*sw + kw - left, c] * dy[b, oh, ow, co]
 *
 * Two ways to compute it, chosen per call from a cost estimate:
 * - 'xnnpack': rewrite the sum as one stride-1, dilated convolution and hand it to the backend's
 *   own Conv2D kernel (XNNPACK, SIMD): input x' = x laid out [c, h, w, b] (batch and channels
 *   swapped), filter = dy laid out [oh, ow, b, co], dilation = the forward stride. Its output is
 *   [c, kh, kw, co]. No im2col buffer is built (XNNPACK's indirection buffer only holds pointers),
 *   and the GEMM runs in wasm SIMD rather than in JS.
 * - 'sparse': walk only the non-zero inputs in JS. The detector's first layer sees 0/1 port
 *   occupancy vectors in which a fraction of a percent of the 65,536 ports are set, so its cost
 *   follows the number of set ports rather than the vector length, and the plain JS loop beats
 *   the SIMD GEMM by 5-10x there.
 * Measured numbers are in bench/kernels.ts.
 */
import {
  backend_util,
  getKernel,
  registerKernel,
  type Conv2DBackpropFilterAttrs,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type BackpropFilterPath = 'auto' | 'xnnpack' | 'sparse';

// How many JS multiply-adds cost as much as one XNNPACK multiply-add. Measured on the 2-core test
// machines: the JS inner loop runs at ~4.6 ns per MAC, XNNPACK's SIMD GEMM (including packing dy)
// at ~0.3 ns; rounded up so that the sparse path is only taken when it clearly wins.
const JS_MAC_COST = 16;

let forcedPath: BackpropFilterPath = 'auto';

/**
 * Pins the path the kernel takes, so tests can check each path against the cpu backend and the
 * benchmark can time them side by side. Production code leaves it on 'auto'.
 */
export function forceConv2DBackpropFilterPath(path: BackpropFilterPath): void {
  forcedPath = path;
}

let lastPath: Exclude<BackpropFilterPath, 'auto'> | null = null;

/** Which path the most recent call took (for tests and the benchmark). */
export function lastConv2DBackpropFilterPath(): Exclude<BackpropFilterPath, 'auto'> | null {
  return lastPath;
}

interface Geometry {
  B: number;
  H: number;
  W: number;
  C: number;
  OH: number;
  OW: number;
  CO: number;
  KH: number;
  KW: number;
  SH: number;
  SW: number;
  top: number;
  left: number;
}

function geometry(x: TensorInfo, attrs: Conv2DBackpropFilterAttrs): Geometry {
  const dataFormat = backend_util.convertConv2DDataFormat(attrs.dataFormat);
  // NCHW would need its own index arithmetic; the stock wasm Conv2D refuses it too, and
  // tfjs-layers transposes channelsFirst inputs to NHWC before calling conv2d anyway.
  if (dataFormat !== 'channelsLast') {
    throw new Error(`wasm Conv2DBackpropFilter supports only dataFormat 'NHWC', got '${attrs.dataFormat}'`);
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    dataFormat,
  );
  return {
    B: info.batchSize,
    H: info.inHeight,
    W: info.inWidth,
    C: info.inChannels,
    OH: info.outHeight,
    OW: info.outWidth,
    CO: info.outChannels,
    KH: info.filterHeight,
    KW: info.filterWidth,
    SH: info.strideHeight,
    SW: info.strideWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

function floatView(backend: BackendWasm, t: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(t) as Float32Array;
}

/**
 * Flat indices of the non-zero inputs, or null as soon as there are more than `limit`, so a dense
 * input costs only the scan up to that point and a sparse one is scanned exactly once.
 */
function nonZeroIndices(values: Float32Array, limit: number): Int32Array | null {
  let indices = new Int32Array(Math.max(1, Math.min(limit, values.length, 4096)));
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === 0) continue;
    if (n === limit) return null;
    if (n === indices.length) {
      const grown = new Int32Array(Math.min(limit, indices.length * 2));
      grown.set(indices);
      indices = grown;
    }
    indices[n++] = i;
  }
  return indices.subarray(0, n);
}

/** The non-zero inputs when the sparse path is the cheaper one, else null. */
function sparseInputs(g: Geometry, xValues: Float32Array): Int32Array | null {
  const denseMacs = g.KH * g.KW * g.C * g.B * g.OH * g.OW * g.CO;
  // Each input element feeds at most ceil(KH/SH) * ceil(KW/SW) filter taps.
  const tapsPerInput = Math.ceil(g.KH / g.SH) * Math.ceil(g.KW / g.SW);
  return nonZeroIndices(xValues, Math.floor(denseMacs / (JS_MAC_COST * tapsPerInput * g.CO)));
}

/**
 * Skips zero inputs. One deliberate difference from the dense sum: x = 0 times a NaN/Infinity in dy
 * contributes 0 here rather than NaN. A NaN gradient means training has already diverged, and the
 * loss shows it either way.
 */
function sparsePath(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, g: Geometry, nonZero: Int32Array): TensorInfo {
  const { H, W, C, OH, OW, CO, KH, KW, SH, SW, top, left } = g;
  // Both views stay valid because nothing is allocated on the wasm heap until the end.
  const xv = floatView(backend, x);
  const dv = floatView(backend, dy);
  // Float64 accumulation: the sums run over up to batch * 65536 terms, and the cpu backend
  // (the reference) accumulates in doubles too.
  const acc = new Float64Array(KH * KW * C * CO);
  for (let n = 0; n < nonZero.length; n++) {
    const i = nonZero[n]!;
    const v = xv[i]!;
    const c = i % C;
    const pixel = (i - c) / C;
    const iw = pixel % W;
    const rowIndex = (pixel - iw) / W;
    const ih = rowIndex % H;
    const b = (rowIndex - ih) / H;
    const hPos = ih + top;
    const wPos = iw + left;
    // kh runs over the taps with kh ≡ hPos (mod SH) so that oh = (hPos - kh) / SH is whole.
    for (let kh = hPos % SH; kh < KH && kh <= hPos; kh += SH) {
      const oh = (hPos - kh) / SH;
      if (oh >= OH) continue;
      const dyRow = (b * OH + oh) * OW;
      for (let kw = wPos % SW; kw < KW && kw <= wPos; kw += SW) {
        const ow = (wPos - kw) / SW;
        if (ow >= OW) continue;
        const d = (dyRow + ow) * CO;
        const a = ((kh * KW + kw) * C + c) * CO;
        for (let q = 0; q < CO; q++) acc[a + q]! += v * dv[d + q]!;
      }
    }
  }
  return backend.makeOutput([KH, KW, C, CO], 'float32', undefined, Float32Array.from(acc));
}

function wasmKernel(name: string): KernelFunc {
  const config = getKernel(name, 'wasm');
  if (config == null) throw new Error(`wasm backend has no '${name}' kernel, needed by Conv2DBackpropFilter`);
  return config.kernelFunc;
}

/**
 * Calls another wasm kernel directly, the way the wasm backend's own kernels compose (e.g. its
 * BatchMatMul calls Reshape): going through the engine would record the inner kernels on the
 * gradient tape and count them in profiles.
 */
function callWasm(name: string, backend: BackendWasm, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo {
  return wasmKernel(name)({ inputs, backend, attrs }) as TensorInfo;
}

function xnnpackPath(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, g: Geometry): TensorInfo {
  const { B, H, W, C, OH, OW, CO, KH, KW, SH, SW, top, left } = g;
  // x' covers exactly the input span the forward windows touched: padding becomes explicit zeros
  // and columns a 'valid' convolution never reached are cropped, so a 'valid' dilated conv of x'
  // with dy has output size exactly [KH, KW].
  const Hp = (OH - 1) * SH + KH;
  const Wp = (OW - 1) * SW + KW;
  const xt = backend.makeOutput([C, Hp, Wp, B], 'float32');
  // Views are taken after the allocation above: growing the wasm heap detaches older views.
  const xv = floatView(backend, x);
  const xtv = floatView(backend, xt);
  xtv.fill(0);
  const wStart = Math.max(0, left);
  const wEnd = Math.min(Wp, W + left);
  const batchStride = H * W * C;
  for (let c = 0; c < C; c++) {
    for (let h = 0; h < Hp; h++) {
      const ih = h - top;
      if (ih < 0 || ih >= H) continue;
      for (let w = wStart; w < wEnd; w++) {
        const dst = ((c * Hp + h) * Wp + w) * B;
        let src = (ih * W + (w - left)) * C + c;
        for (let b = 0; b < B; b++, src += batchStride) xtv[dst + b] = xv[src]!;
      }
    }
  }

  // With a batch of one, dy already has the [oh, ow, b, co] layout.
  const filter: TensorInfo =
    B === 1
      ? { dataId: dy.dataId, shape: [OH, OW, 1, CO], dtype: 'float32' }
      : callWasm('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] });
  let out: TensorInfo;
  try {
    out = callWasm('Conv2D', backend, { x: xt, filter }, { strides: [1, 1], pad: 'valid', dilations: [SH, SW], dataFormat: 'NHWC' });
  } finally {
    backend.disposeData(xt.dataId);
    if (filter.dataId !== dy.dataId) backend.disposeData(filter.dataId);
  }
  if (C === 1) return { dataId: out.dataId, shape: [KH, KW, 1, CO], dtype: 'float32' };
  try {
    return callWasm('Transpose', backend, { x: out }, { perm: [1, 2, 0, 3] });
  } finally {
    backend.disposeData(out.dataId);
  }
}

export const conv2DBackpropFilterWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const wasm = backend as BackendWasm;
  const x = inputs['x'];
  const dy = inputs['dy'];
  if (x == null || dy == null) throw new Error('Conv2DBackpropFilter needs inputs x and dy');
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(`wasm Conv2DBackpropFilter supports float32 only, got x ${x.dtype} and dy ${dy.dtype}`);
  }
  const g = geometry(x, attrs as unknown as Conv2DBackpropFilterAttrs);
  if (g.B * g.OH * g.OW === 0) {
    return wasm.makeOutput([g.KH, g.KW, g.C, g.CO], 'float32', undefined, new Float32Array(g.KH * g.KW * g.C * g.CO));
  }
  const xValues = floatView(wasm, x);
  const nonZero =
    forcedPath === 'xnnpack' ? null : forcedPath === 'sparse' ? nonZeroIndices(xValues, xValues.length) : sparseInputs(g, xValues);
  lastPath = nonZero != null ? 'sparse' : 'xnnpack';
  return nonZero != null ? sparsePath(wasm, x, dy, g, nonZero) : xnnpackPath(wasm, x, dy, g);
};

export const conv2DBackpropFilterWasmConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilterWasm,
};

/**
 * Kernels the stock wasm backend lacks that training our model needs. Checked with
 * `tf.getKernelsForBackend` against cpu and by training every layer type the detector may use
 * (conv1d, pooling, lstm, dense, dropout, upSampling2d, conv2dTranspose) on wasm: only
 * Conv2DBackpropFilter is missing. Also absent, but not reached by those layers:
 * DepthwiseConv2dNativeBackpropFilter/Input (depthwise/separable conv training),
 * UnsortedSegmentSum (gradient of gather, e.g. embeddings), Einsum, FFT/IFFT, complex numbers.
 */
export const wasmTrainingKernels: readonly KernelConfig[] = [conv2DBackpropFilterWasmConfig];

/**
 * Registers the kernels above for 'wasm'. Safe to call more than once and before or after the wasm
 * backend is initialised (none of them has a setupFunc, which only runs at backend init).
 */
export function registerWasmTrainingKernels(): string[] {
  const added: string[] = [];
  for (const config of wasmTrainingKernels) {
    // registerKernel warns and overwrites on a duplicate; a second call must be silent.
    if (getKernel(config.kernelName, config.backendName) != null) continue;
    registerKernel(config);
    added.push(config.kernelName);
  }
  return added;
}
