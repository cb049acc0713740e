// Entry point of the wasm kernels (compiled by scripts/build-wasm.mjs). Every export takes byte
// addresses into the shared linear memory that the JS side (../kernels.ts) manages.
export { gemm, gemmScratchBytes } from './gemm';
export { unary, unaryBackward, axpby, binary, copyStrided } from './elementwise';
export { sum, dot, sumSquares, allFinite } from './reduce';
export { softmax, softmaxBackward, logSoftmax, logSoftmaxBackward, layerNorm, layerNormBackward } from './rows';
export { checkIds, maxI32, checkOffsets, embeddingBagMean, embeddingBagMeanBackward, indexAdd, uniqueIds, dequantRows, quantBagMean } from './embedding';
export { adam, dropout } from './optim';
export { biasGelu, addBias, sumLayerNorm, residualLayerNorm, attentionPacked, q8Quantize, q8PackCodes, q8QuantizeRows, q8Gemm } from './infer';
export { codesBagMean, codesBagMeanBackward, nearestCentroids } from './codes';

/** First byte the JS arena may use (nothing static lives above it). */
export function heapBase(): usize {
  return __heap_base;
}
