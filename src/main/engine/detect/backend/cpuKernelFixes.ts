/**
 * Replacement for a wrong kernel in the cpu backend of @tensorflow/tfjs-backend-cpu 4.22.
 *
 * Its ResizeNearestNeighborGrad indexes dy with the *input's* batch stride (`b * imagesStrides[0]`)
 * where it needs dy's, so every batch element after the first gets its gradient from the wrong
 * place. upSampling2d (a decoder building block) trains through this kernel: on the cpu fallback
 * its upstream layers would learn from garbage whenever the batch size is above one. The wasm
 * kernel is right for the modes upSampling2d uses (with halfPixelCenters, which tfjs-layers never
 * sets, its gradient is not the forward's adjoint either; left alone); tfjs-node uses TensorFlow's.
 *
 * The replacement scatters dy back through exactly the index mapping of the cpu forward kernel,
 * so it is the forward op's true adjoint for every alignCorners/halfPixelCenters combination.
 */
import {
  getKernel,
  registerKernel,
  unregisterKernel,
  util,
  type KernelConfig,
  type KernelFunc,
  type MathBackendCPU,
  type TensorInfo,
} from '@tensorflow/tfjs';

/** Source index the cpu forward ResizeNearestNeighbor reads for output index `i`. */
function sourceIndex(i: number, ratio: number, oldSize: number, alignCorners: boolean, halfPixelCenters: boolean): number {
  const frac = halfPixelCenters ? ratio * (i + 0.5) : ratio * i;
  const nearest = Math.min(oldSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
  return halfPixelCenters ? Math.max(0, nearest) : nearest;
}

export const resizeNearestNeighborGradCpu: KernelFunc = ({ inputs, backend, attrs }) => {
  const cpu = backend as MathBackendCPU;
  const images = inputs['images'] as TensorInfo;
  const dy = inputs['dy'] as TensorInfo;
  const alignCorners = Boolean(attrs?.['alignCorners']);
  const halfPixelCenters = Boolean(attrs?.['halfPixelCenters']);
  const [batch, oldHeight, oldWidth, depth] = images.shape as [number, number, number, number];
  const [, newHeight, newWidth] = dy.shape as [number, number, number, number];
  const dyValues = cpu.readSync(dy.dataId) as ArrayLike<number>;
  const out = new Float32Array(util.sizeFromShape(images.shape));

  const rowRatio = (alignCorners && newHeight > 1 ? oldHeight - 1 : oldHeight) / (alignCorners && newHeight > 1 ? newHeight - 1 : newHeight);
  const colRatio = (alignCorners && newWidth > 1 ? oldWidth - 1 : oldWidth) / (alignCorners && newWidth > 1 ? newWidth - 1 : newWidth);
  const sourceCols = new Int32Array(newWidth);
  for (let c = 0; c < newWidth; c++) sourceCols[c] = sourceIndex(c, colRatio, oldWidth, alignCorners, halfPixelCenters);

  let dyIndex = 0;
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < newHeight; r++) {
      const rowBase = (b * oldHeight + sourceIndex(r, rowRatio, oldHeight, alignCorners, halfPixelCenters)) * oldWidth;
      for (let c = 0; c < newWidth; c++) {
        const base = (rowBase + sourceCols[c]!) * depth;
        for (let d = 0; d < depth; d++) out[base + d]! += dyValues[dyIndex++]!;
      }
    }
  }
  return cpu.makeTensorInfo(images.shape, 'float32', out);
};

export const resizeNearestNeighborGradCpuConfig: KernelConfig = {
  kernelName: 'ResizeNearestNeighborGrad',
  backendName: 'cpu',
  kernelFunc: resizeNearestNeighborGradCpu,
};

/** Swaps in the corrected cpu kernels. Idempotent; no-op for kernels already replaced. */
export function registerCpuKernelFixes(): string[] {
  const replaced: string[] = [];
  for (const config of [resizeNearestNeighborGradCpuConfig]) {
    const current = getKernel(config.kernelName, config.backendName);
    if (current?.kernelFunc === config.kernelFunc) continue;
    // registerKernel would overwrite too, but warns about the duplicate on every start.
    if (current != null) unregisterKernel(config.kernelName, config.backendName);
    registerKernel(config);
    replaced.push(config.kernelName);
  }
  return replaced;
}
