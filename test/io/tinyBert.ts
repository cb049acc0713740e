/** Tiny BERT checkpoints built from TypeScript (no Python needed), for checkpoint and model tests. */
import type { BertConfig, BertWeights, HostTensor, LinearWeights } from '../../src/io/hfCheckpoint.js';

export const TINY_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', 'hello', 'world', '.', '##s'];

export function tinyConfig(over: Partial<BertConfig> = {}): BertConfig {
  return {
    vocabSize: TINY_VOCAB.length, hiddenSize: 8, numLayers: 2, numHeads: 2, intermediateSize: 16, hiddenAct: 'gelu',
    maxPositions: 16, typeVocabSize: 2, layerNormEps: 1e-12, hiddenDropout: 0.1, attentionDropout: 0.1, padTokenId: 0, ...over,
  };
}

/** Deterministic pseudo-random weights (a seeded LCG), spread wide enough that every tensor matters. */
export function tinyWeights(c: BertConfig, seed = 1, withPooler = false): BertWeights {
  let s = seed >>> 0;
  const t = (shape: number[], mean = 0, scale = 0.4): HostTensor => {
    const n = shape.reduce((a, d) => a * d, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      data[i] = mean + (s / 2 ** 32 - 0.5) * scale;
    }
    return { shape, data };
  };
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const lin = (o: number, i: number): LinearWeights => ({ weight: t([o, i]), bias: t([o], 0, 0.1) });
  const norm = (): LinearWeights => ({ weight: t([H], 1, 0.2), bias: t([H], 0, 0.1) });
  return {
    embeddings: { word: t([c.vocabSize, H], 0, 1), position: t([c.maxPositions, H]), tokenType: t([c.typeVocabSize, H]), norm: norm() },
    layers: Array.from({ length: c.numLayers }, () => ({
      query: lin(H, H), key: lin(H, H), value: lin(H, H), attentionOutput: lin(H, H), attentionNorm: norm(),
      intermediate: lin(I, H), output: lin(H, I), outputNorm: norm(),
    })),
    ...(withPooler ? { pooler: lin(H, H) } : {}),
  };
}
