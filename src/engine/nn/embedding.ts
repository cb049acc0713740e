/**
 * Embedding tables with sparse gradients (see ops/embedding.ts): Embedding (one row per id) and
 * EmbeddingBag (mean of the rows of each bag of ids, the DAN / fastText building block).
 */
import { Module, Parameter } from './module.js';
import type { Tensor, IdsLike } from '../tensor.js';
import type { Rng } from '../random.js';
import { embedding, embeddingBag } from '../ops/embedding.js';

export class Embedding extends Module {
  readonly weight: Parameter;

  /** Initialised normal(0, std), BERT's 0.02 by default. */
  constructor(readonly numEmbeddings: number, readonly dim: number, rng: Rng, opts: { std?: number } = {}) {
    super();
    this.weight = new Parameter(new Float32Array(numEmbeddings * dim), [numEmbeddings, dim], 'weight');
    rng.fillNormal(this.weight.data, 0, opts.std ?? 0.02);
  }

  /** ids (...S) -> (...S, dim). */
  forward(ids: IdsLike): Tensor {
    return embedding(this.weight, ids);
  }
}

export interface EmbeddingBagModuleOptions {
  /** Probability of dropping each id while training (feature dropout); default 0. */
  dropIds?: number;
}

export class EmbeddingBag extends Module {
  readonly weight: Parameter;
  readonly dropIds: number;
  private readonly rng: Rng;

  /** Initialised uniform +-1/dim as fastText does. */
  constructor(readonly numEmbeddings: number, readonly dim: number, rng: Rng, opts: EmbeddingBagModuleOptions = {}) {
    super();
    this.weight = new Parameter(new Float32Array(numEmbeddings * dim), [numEmbeddings, dim], 'weight');
    rng.fillUniform(this.weight.data, -1 / dim, 1 / dim);
    this.dropIds = opts.dropIds ?? 0;
    this.rng = rng.fork();
  }

  /** ids (nnz), offsets (B+1) -> (B, dim): the mean row of each bag. */
  forward(ids: IdsLike, offsets: IdsLike): Tensor {
    const p = this.training ? this.dropIds : 0;
    return embeddingBag(this.weight, ids, offsets, p > 0 ? { dropIds: p, seed: this.rng.seed() } : {});
  }
}
