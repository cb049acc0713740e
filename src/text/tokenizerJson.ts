/**
 * Builds, in memory, the `tokenizer.json` object that Hugging Face writes for a BERT WordPiece
 * tokenizer (BertNormalizer, BertPreTokenizer, WordPiece model, TemplateProcessing
 * `[CLS] $A [SEP]` / `[CLS] $A [SEP] $B:1 [SEP]:1`, WordPiece decoder), from a `vocab.txt` and
 * the settings of `tokenizer_config.json`. This is what `BertTokenizerFast` converts a slow
 * tokenizer into, so both load paths run the same pipeline.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';

/** The subset of `tokenizer_config.json` that shapes a BERT tokenizer. */
export interface TokenizerConfig {
  do_lower_case?: boolean;
  strip_accents?: boolean | null;
  tokenize_chinese_chars?: boolean;
  model_max_length?: number;
  unk_token?: string;
  sep_token?: string;
  pad_token?: string;
  cls_token?: string;
  mask_token?: string;
  [key: string]: unknown;
}

/** The tokens of a `vocab.txt`, one a line; the id of a token is its 0-based line. */
export function readVocabTxt(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(path, undefined, undefined, `cannot read vocabulary: ${(e as Error).message}`);
  }
  const tokens = text.split('\n');
  if (tokens.at(-1) === '') tokens.pop();
  // Like HF's load_vocab (rstrip of the newline), plus '\r' so a CRLF file reads the same.
  for (let i = 0; i < tokens.length; i++) if (tokens[i]!.endsWith('\r')) tokens[i] = tokens[i]!.slice(0, -1);
  if (tokens.length === 0) throw new InputError(path, undefined, undefined, 'empty vocabulary');
  return tokens;
}

/** The special-token strings of a BERT tokenizer, from its config or the standard names. */
export function bertSpecialTokens(config: TokenizerConfig = {}): { unk: string; sep: string; pad: string; cls: string; mask: string } {
  const name = (v: unknown, def: string): string =>
    typeof v === 'string' ? v : v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : def;
  return {
    unk: name(config.unk_token, '[UNK]'),
    sep: name(config.sep_token, '[SEP]'),
    pad: name(config.pad_token, '[PAD]'),
    cls: name(config.cls_token, '[CLS]'),
    mask: name(config.mask_token, '[MASK]'),
  };
}

/**
 * The tokenizer.json object for a WordPiece vocabulary. `lowercase` defaults to
 * `config.do_lower_case`, then to true (HF BertTokenizer's default).
 */
export function bertTokenizerJson(vocab: readonly string[], config: TokenizerConfig = {}, source = 'vocab.txt'): Record<string, unknown> {
  const ids: Record<string, number> = Object.create(null) as Record<string, number>;
  // A repeated token keeps its last line, as Python's dict assignment in load_vocab does.
  vocab.forEach((t, i) => (ids[t] = i));
  const sp = bertSpecialTokens(config);
  for (const t of [sp.unk, sp.cls, sp.sep]) {
    if (ids[t] === undefined) throw new InputError(source, undefined, undefined, `vocabulary has no '${t}' token`);
  }
  const added = [sp.pad, sp.unk, sp.cls, sp.sep, sp.mask]
    .filter((t, i, all) => ids[t] !== undefined && all.indexOf(t) === i)
    .map((t) => ({ id: ids[t]!, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }))
    .sort((a, b) => a.id - b.id);
  const lowercase = config.do_lower_case ?? true;
  const special = (t: string) => ({ id: t, ids: [ids[t]!], tokens: [t] });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: config.tokenize_chinese_chars ?? true,
      strip_accents: config.strip_accents ?? null,
      lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: sp.cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sp.sep, type_id: 0 } }],
      pair: [
        { SpecialToken: { id: sp.cls, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: sp.sep, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: sp.sep, type_id: 1 } },
      ],
      special_tokens: { [sp.cls]: special(sp.cls), [sp.sep]: special(sp.sep) },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: sp.unk, continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: ids },
  };
}
