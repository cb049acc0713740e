/**
 * BERT's input embeddings: word + position + token type, then LayerNorm and dropout.
 *   ids (B, T), tokenTypes (B, T) -> (B, T, H)
 * Field names are Hugging Face's, so parameter names come out as `embeddings.word_embeddings.weight`.
 * The word embeddings are any EmbeddingTable (models/tables/): dense as loaded, or compressed by
 * `slimtext compress`; this module only looks rows up.
 */
import { Module, Embedding, LayerNorm, Dropout, add, reshape, IntTensor, type Tensor, type Rng } from '../../engine/index.js';
import { DenseNgramTable } from '../danTable.js';
import type { EmbeddingTable } from '../tables/table.js';
import type { BertConfig } from '../../io/hfCheckpoint.js';
import { OpError } from '../../errors.js';

export class BertEmbeddings extends Module {
  /** Any table (a Module's own field, so its parameters are named `word_embeddings.*`); see setWordTable. */
  word_embeddings: EmbeddingTable;
  readonly position_embeddings: Embedding;
  readonly token_type_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;

  constructor(readonly config: BertConfig, rng: Rng, initStd = 0.02) {
    super();
    const H = config.hiddenSize;
    const words = new Float32Array(config.vocabSize * H);
    rng.fillNormal(words, 0, initStd);
    this.word_embeddings = new DenseNgramTable(config.vocabSize, H, { data: words });
    this.position_embeddings = new Embedding(config.maxPositions, H, rng, { std: initStd });
    this.token_type_embeddings = new Embedding(config.typeVocabSize, H, rng, { std: initStd });
    this.LayerNorm = new LayerNorm(H, config.layerNormEps);
    this.dropout = new Dropout(config.hiddenDropout, rng);
  }

  /** Swaps in another table of the same rows and width (a compressed one). */
  setWordTable(t: EmbeddingTable): void {
    if (t.rows !== this.word_embeddings.rows || t.dim !== this.word_embeddings.dim) throw new OpError('bertEmbeddings', `a ${t.rows} x ${t.dim} word table cannot replace ${this.word_embeddings.rows} x ${this.word_embeddings.dim}`);
    this.word_embeddings = t;
  }

  /** ids (B, T) -> (B, T, H); tokenTypes defaults to all zeros (a single segment). */
  forward(ids: IntTensor, tokenTypes?: IntTensor): Tensor {
    if (ids.shape.length !== 2) throw new OpError('bertEmbeddings', `ids must be (B, T), got [${ids.shape.join(', ')}]`);
    const [B, T] = ids.shape as [number, number];
    if (T > this.config.maxPositions) {
      throw new OpError('bertEmbeddings', `sequence length ${T} exceeds max_position_embeddings ${this.config.maxPositions}; truncate the input`);
    }
    // Positions 0..T-1 (T, H), broadcast over the batch.
    const positions = new IntTensor(Int32Array.from({ length: T }, (_, i) => i), [T]);
    const types = tokenTypes ?? new IntTensor(new Int32Array(B * T), [B, T]);
    const H = this.config.hiddenSize;
    let x = add(reshape(this.word_embeddings.lookup(ids.data), [B, T, H]), this.position_embeddings.forward(positions));
    x = add(x, this.token_type_embeddings.forward(types));
    return this.dropout.forward(this.LayerNorm.forward(x));
  }
}
