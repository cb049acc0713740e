/**
 * The text layer's public surface: BERT WordPiece tokenisation (Hugging Face compatible), BERT's
 * basic normalisation, word n-grams, n-gram vocabularies (building, saving, loading) and the
 * n-gram featuriser for DAN students.
 */
export { loadTokenizer, tokenizerFromVocab, WordPieceTokenizer } from './tokenizer.js';
export type { BatchOptions, EncodeOptions, Encoded, EncodedBatch, LoadTokenizerOptions } from './tokenizer.js';
export { bertNormalize, bertWords, type BertNormalizerOptions } from './bertNormalizer.js';
export { bertTokenizerJson, readVocabTxt, type TokenizerConfig } from './tokenizerJson.js';
export { truncatedLengths, type TruncationStrategy } from './truncation.js';
export { textNgrams, wordNgrams } from './ngrams.js';
export { fastTextHash } from './fnv.js';
export { NgramVocab, type NgramVocabMeta } from './ngramVocab.js';
export { NgramFeaturizer, maxIds, type FeaturizerOptions } from './featurizer.js';
export { buildNgramVocab, type BuildProgress, type NgramBuildOptions, type NgramBuildStats } from './ngramBuild.js';
