/**
 * TensorFlow.js as the detector uses it, as one namespace (`import * as tf from './tf'`):
 * tfjs-core (tensors, ops, kernels, io, optimizers) and tfjs-layers (the model), without the
 * webgl backend, data and converter packages that the full `@tensorflow/tfjs` brings along.
 * tfjs-layers registers tfjs-core's gradients when it loads, which training needs.
 *
 * The cpu backend is registered here, as `@tensorflow/tfjs` did: tensors work before
 * backend/selectBackend.ts picks a backend, and cpu is its last fallback. The wasm backend and
 * tfjs-node are loaded there, only when tried.
 *
 * All of them must share one installed @tensorflow/tfjs-core (`npm ls @tensorflow/tfjs-core`),
 * or kernels and backends register with an engine the others never see.
 */
import '@tensorflow/tfjs-backend-cpu';

export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
