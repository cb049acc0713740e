/** The public engine API: tensors, autograd, ops, modules, optimisers, schedules, backends. */
export { Tensor, IntTensor, tensor, zeros, ones, full, randn, uniform, toIntTensor, type IdsLike, type TensorOptions } from './tensor.js';
export { SparseGrad } from './sparseGrad.js';
export { backward, noGrad, gradEnabled, checkFinite, type BackwardOptions } from './autograd.js';
/** For writing a new op outside the engine: record its backward closure when needsGrad(...inputs). */
export { record, needsGrad, gradOf, gradOrNull, gradTarget, adoptGrad, releaseWithGraph } from './autograd.js';
export { Rng } from './random.js';
export { sizeOf, type Shape } from './shapes.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './gradcheck.js';

export * from './ops/elementwise.js';
export { matmul, linear, type MatmulOptions } from './ops/matmul.js';
export { reshape, transpose, permute, slice, concat } from './ops/shape.js';
export { sum, mean, type ReduceOptions } from './ops/reduce.js';
export { softmax, logSoftmax } from './ops/softmax.js';
export { layerNorm, residualLayerNorm, type ResidualLayerNormOptions } from './ops/layerNorm.js';
export { dropout } from './ops/dropout.js';
export { embedding, embeddingBag, dropIds, type EmbeddingBagOptions } from './ops/embedding.js';
export { codesBag, type CodesLayout } from './ops/codesBag.js';
export { attention, multiHeadAttention, splitHeads, mergeHeads, additiveMask, type AttentionOptions } from './ops/attention.js';
export { crossEntropy, klDiv, mse, cosineSimilarity, type KlOptions } from './ops/losses.js';

export { Module, Parameter } from './nn/module.js';
export { Linear, type LinearOptions, type Int8Weight } from './nn/linear.js';
export { Embedding, EmbeddingBag, type EmbeddingBagModuleOptions } from './nn/embedding.js';
export { LayerNorm } from './nn/layerNorm.js';
export { Dropout } from './nn/dropout.js';
export { MLP, type Activation, type MlpOptions } from './nn/mlp.js';

export { Optimizer, type ParamsLike, type OptimizerOptions } from './optim/optimizer.js';
export { AdamW, DEFAULT_NO_DECAY, type AdamWOptions } from './optim/adamw.js';
export { SGD, type SgdOptions } from './optim/sgd.js';
export { clipGradNorm } from './optim/clip.js';
export { warmupDecay, warmupConstant, constant, type Schedule, type WarmupDecayOptions } from './schedule.js';

export { getBackend, setBackend, loadBackend, availableBackends, type BackendName } from './backends.js';
export type { Backend } from './backend.js';
export type { InferKernels } from './backend.js';
export { q8PackedLength, f32PackedLength } from './backend.js';
export { inferKernels } from './infer/kernels.js';
export { withSharedWeights, isSharedWeight, sharingWeights, sharedFileArray, recordedFileArrays, sharedDerivedArray, type SharedWeights, type SharingStats, type WeightArray } from './sharedWeights.js';
