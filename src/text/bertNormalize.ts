/**
 * BERT's "basic" text step (the normaliser half; bertNormalizer.ts adds the pre-tokenizer), exactly as Hugging Face `tokenizers` (Rust) does it: BertNormalizer
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

export interface BertNormalizerOptions {
  /** Remove control/unassigned chars, map every kind of whitespace to ' ' (default true). */
  cleanText?: boolean;
  /** Put spaces around CJK ideographs so each is its own word (default true). */
  handleChineseChars?: boolean;
  /** Strip accents (NFD, drop non-spacing marks). Default: same as `lowercase`, as in BERT. */
  stripAccents?: boolean;
  /** Lowercase (default true: uncased BERT). */
  lowercase?: boolean;
}

/** Normalises text the way HF `tokenizers`' BertNormalizer does (see the module comment). */
export function bertNormalize(text: string, opts: BertNormalizerOptions = {}): string {
  const lowercase = opts.lowercase ?? true;
  const strip = opts.stripAccents ?? lowercase;
  if (PRINTABLE_ASCII.test(text)) return lowercase ? text.toLowerCase() : text;
  if (opts.cleanText ?? true) text = text.replace(CONTROL, '').replace(WHITESPACE, ' ');
  if (opts.handleChineseChars ?? true) text = text.replace(CJK, ' $& ');
  if (strip) text = text.normalize('NFD').replace(NONSPACING_MARK, '');
  // Char-wise lowercase: only Final_Sigma is context-dependent in the root locale, so mapping 'Σ'
  // first makes String#toLowerCase agree with Rust's per-char `to_lowercase`.
  if (lowercase) text = text.replace(CAPITAL_SIGMA, '\u03C3').toLowerCase();
  return text;
}

/** Printable ASCII only: no control chars, no whitespace but ' ', no CJK, nothing NFD changes. */
const PRINTABLE_ASCII = /^[\x20-\x7E]*$/;
/** Rust `is_other()` (Cc, Cf, Cs, Co, Cn), NUL and U+FFFD, except \t \n \r (those are whitespace). */
const CONTROL = /(?![\t\n\r])[\0\uFFFD\p{C}]/gu;
/** Rust `char::is_whitespace` is the Unicode White_Space property. */
const WHITESPACE = /\p{White_Space}/gu;
/** The CJK blocks of tokenizers' `is_chinese_char` (normalizers/bert.rs). */
const CJK =
  /[\u{4E00}-\u{9FFF}\u{3400}-\u{4DBF}\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B920}-\u{2CEAF}\u{F900}-\u{FAFF}\u{2F800}-\u{2FA1F}]/gu;
const NONSPACING_MARK = /\p{Mn}/gu;
const CAPITAL_SIGMA = /\u03A3/g;
