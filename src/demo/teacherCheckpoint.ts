/**
 * A small BERT teacher that starts from nothing: a WordPiece vocabulary made from the training
 * text (special tokens, every character alone and as a continuation `##c`, then the most frequent
 * words, so any word splits into known pieces), and a randomly initialised BERT of the given shape,
 * written as a Hugging Face checkpoint folder that fine-tuning (train/finetune/finetune.ts) reads like any
 * downloaded one. No pretrained weights or vocabulary files are needed (none exist offline).
 */
import { BertModel } from '../models/bert/model.js';
import { writeHfCheckpoint, type BertConfig } from '../io/hfCheckpoint.js';
import { bertWords } from '../text/bertNormalizer.js';

export interface ScratchTeacherShape {
  /** Whole words in the vocabulary (besides characters and special tokens). */
  words: number;
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  /** Position embeddings (the longest input). */
  maxPositions: number;
  seed: number;
}

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/** A WordPiece vocabulary for `texts`: specials, characters, continuation characters, frequent words. */
export function wordPieceVocab(texts: Iterable<string>, words: number): string[] {
  const counts = new Map<string, number>();
  const chars = new Set<string>();
  for (const t of texts) {
    for (const w of bertWords(t, { lowercase: true })) {
      counts.set(w, (counts.get(w) ?? 0) + 1);
      for (const c of w) chars.add(c);
    }
  }
  const charList = [...chars].sort();
  const top = [...counts].filter(([w]) => [...w].length > 1).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, words).map(([w]) => w);
  return [...SPECIAL_TOKENS, ...charList, ...charList.map((c) => `##${c}`), ...top];
}

/** Writes a randomly initialised BERT checkpoint (config.json, vocab.txt, model.safetensors) to `dir`. */
export async function writeScratchCheckpoint(dir: string, texts: Iterable<string>, shape: ScratchTeacherShape): Promise<{ vocabSize: number; parameters: number }> {
  const vocab = wordPieceVocab(texts, shape.words);
  const config: BertConfig = {
    vocabSize: vocab.length,
    hiddenSize: shape.hidden,
    numLayers: shape.layers,
    numHeads: shape.heads,
    intermediateSize: shape.intermediate,
    hiddenAct: 'gelu',
    maxPositions: shape.maxPositions,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
    hiddenDropout: 0.1,
    attentionDropout: 0.1,
    padTokenId: 0,
  };
  const model = new BertModel(config, { seed: shape.seed, pooler: true });
  await writeHfCheckpoint(dir, { config, weights: model.toWeights(), vocab, configExtra: { initializer_range: 0.02 } });
  return { vocabSize: vocab.length, parameters: model.parameterCount() };
}
