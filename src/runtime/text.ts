/**
 * Text steps of the runtime, the same as slimtext's: BERT's normaliser (bundled from
 * text/bertNormalize.ts on purpose), BERT's pre-tokenizer (whitespace split, each punctuation
 * char alone, as Hugging Face `tokenizers`' BertPreTokenizer; slimtext itself takes that from
 * @huggingface/tokenizers, which the runtime may not depend on: test/runtime checks they agree),
 * and WordPiece (greedy longest match first, `##` continuations, [UNK] for a word that does not
 * split or is longer than maxCharsPerWord).
 */
import { bertNormalize } from '../text/bertNormalize.js';

/** Rust `is_punctuation`: ASCII punctuation or Unicode category P. */
export const WORD = /[\p{P}\x21-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E]|[^\p{White_Space}\p{P}\x21-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E]+/gu;

export function preTokenize(normalized: string): string[] {
  return normalized.match(WORD) ?? [];
}

export function words(text: string, lowercase: boolean, stripAccents = lowercase): string[] {
  return preTokenize(bertNormalize(text, { lowercase, stripAccents }));
}

export interface WordPieceSettings {
  lowercase: boolean;
  stripAccents: boolean;
  unk: number;
  special: Record<string, number>;
  prefix: string;
  maxCharsPerWord: number;
}

export class WordPiece {
  private readonly cache = new Map<string, number[]>();
  private readonly specialRe: RegExp | null;

  constructor(private readonly vocab: Map<string, number>, private readonly s: WordPieceSettings) {
    const names = Object.keys(s.special).sort((a, b) => b.length - a.length);
    this.specialRe = names.length ? new RegExp(names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g') : null;
  }

  /** Token ids of a text, without [CLS]/[SEP]. */
  encode(text: string): number[] {
    const out: number[] = [];
    if (this.specialRe) {
      let last = 0;
      for (const m of text.matchAll(this.specialRe)) {
        this.section(text.slice(last, m.index), out);
        out.push(this.s.special[m[0]]!);
        last = m.index! + m[0].length;
      }
      this.section(text.slice(last), out);
    } else this.section(text, out);
    return out;
  }

  private section(text: string, out: number[]): void {
    if (!text) return;
    for (const w of words(text, this.s.lowercase, this.s.stripAccents)) {
      let pieces = this.cache.get(w);
      if (!pieces) {
        pieces = this.word(w);
        if (this.cache.size > 50000) this.cache.clear();
        this.cache.set(w, pieces);
      }
      for (const p of pieces) out.push(p);
    }
  }

  private word(w: string): number[] {
    const chars = Array.from(w);
    if (chars.length > this.s.maxCharsPerWord) return [this.s.unk];
    const out: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let id: number | undefined;
      while (start < end) {
        const sub = (start > 0 ? this.s.prefix : '') + chars.slice(start, end).join('');
        id = this.vocab.get(sub);
        if (id !== undefined) break;
        end--;
      }
      if (id === undefined) return [this.s.unk];
      out.push(id);
      start = end;
    }
    return out;
  }
}
