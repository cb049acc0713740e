/**
 * BERT's "basic" text step, exactly as Hugging Face `tokenizers` (Rust) does it: BertNormalizer
 * (clean text, space out CJK ideographs, strip accents, lowercase) then BertPreTokenizer (split on
 * whitespace, isolate punctuation). The WordPiece tokenizer and the n-gram vocabularies both read
 * text through `bertWords`, so a word means the same thing everywhere in slimtext.
 *
 * The normaliser is written here rather than taken from @huggingface/tokenizers 0.2.0, whose
 * BertNormalizer differs from the Rust reference in four places (each pinned by a test):
 *   1. CJK ideographs outside the BMP (U+20000.., e.g. '𠀀') are not spaced out: it walks UTF-16
 *      code units, so a surrogate pair never matches its range check.
 *   2. Unassigned code points (category Cn) are kept; Rust's `is_other()` removes Cc|Cf|Cs|Co|Cn.
 *   3. It lowercases the whole string with `toLowerCase()`, which turns a word-final 'Σ' into 'ς';
 *      Rust lowercases char by char ('Σ' -> 'σ' always). Python's BertTokenizer (slow) agrees with
 *      the JS library here; we follow `tokenizers`, whose tokenizer.json format we load.
 *   4. Its CJK block list starts Extension E at U+2B820 (Python's list); Rust's starts at U+2B920.
 * It is also slow on plain text (a regex test per character); printable ASCII takes a fast path
 * here that is provably the identity for every step but lowercasing.
 * The library's BertPreTokenizer matches Rust and is used as it is.
 */
import { hfBertPreTokenizer } from './hfTokenizers.js';
import { bertNormalize, type BertNormalizerOptions } from './bertNormalize.js';

// The normaliser lives in bertNormalize.ts (no dependencies, so the browser runtime bundles it).
export { bertNormalize, type BertNormalizerOptions } from './bertNormalize.js';

/** Normalises then splits into BERT words (whitespace removed, each punctuation char alone). */
export function bertWords(text: string, opts: BertNormalizerOptions = {}): string[] {
  return preTokenizer.pre_tokenize_text(bertNormalize(text, opts));
}

/** BERT's pre-tokenizer alone (for text that is already normalised). */
export function bertPreTokenize(normalized: string): string[] {
  return preTokenizer.pre_tokenize_text(normalized);
}

/** The BertNormalizer options of a tokenizer.json `normalizer` object (null/absent: defaults). */
export function bertNormalizerOptions(config: { clean_text?: boolean; handle_chinese_chars?: boolean; strip_accents?: boolean | null; lowercase?: boolean }): BertNormalizerOptions {
  return {
    cleanText: config.clean_text ?? true,
    handleChineseChars: config.handle_chinese_chars ?? true,
    lowercase: config.lowercase ?? true,
    ...(config.strip_accents === null || config.strip_accents === undefined ? {} : { stripAccents: config.strip_accents }),
  };
}

const preTokenizer = hfBertPreTokenizer();
