/**
 * The part of @huggingface/tokenizers that slimtext uses, with types. The package's declaration
 * files import each other without file extensions, which TypeScript's NodeNext resolution (ours)
 * cannot follow, so every export arrives as `any`; this facade pins the shapes we rely on and is
 * the only module that imports the library.
 */
import * as hf from '@huggingface/tokenizers';

/** A tokenizer model (WordPiece, BPE, Unigram): maps pre-tokens to token strings. */
export interface HfModel {
  (words: string[]): string[];
  vocab: string[];
  tokens_to_ids: Map<string, number>;
  unk_token_id?: number;
}

export interface HfPreTokenizer {
  pre_tokenize_text(text: string, options?: { section_index?: number }): string[];
}

export type HfNormalizer = (text: string) => string;

export interface HfTokenizer {
  model: HfModel | null;
  normalizer: HfNormalizer | null;
  pre_tokenizer: HfPreTokenizer | null;
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
}

const lib = hf as unknown as {
  Tokenizer: new (tokenizerJson: object, tokenizerConfig: object) => HfTokenizer;
  BertPreTokenizer: new () => HfPreTokenizer;
};

/** The library's pipeline built from a tokenizer.json object (and tokenizer_config.json). */
export function hfTokenizer(tokenizerJson: object, tokenizerConfig: object): HfTokenizer {
  return new lib.Tokenizer(tokenizerJson, tokenizerConfig);
}

export function hfBertPreTokenizer(): HfPreTokenizer {
  return new lib.BertPreTokenizer();
}
