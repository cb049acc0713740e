/**
 * Post-processing templates: where the special tokens go around one sequence or a pair, and which
 * token-type id each part gets. Read from a tokenizer.json `post_processor` (TemplateProcessing or
 * BertProcessing). The JS library's TemplateProcessing returns token strings and knows nothing of
 * truncation, which must count the template's tokens first; hence this small model of our own.
 */
import { InputError } from '../errors.js';

export type TemplatePiece = { special: Int32Array; typeId: number } | { sequence: 'A' | 'B'; typeId: number };

export interface Template {
  single: TemplatePiece[];
  pair: TemplatePiece[];
}

/** How many special tokens the template adds (for a pair or a single sequence). */
export function addedTokens(t: Template, pair: boolean): number {
  let n = 0;
  for (const p of pair ? t.pair : t.single) if ('special' in p) n += p.special.length;
  return n;
}

/**
 * Writes the template's output for `a` (and `b`) into ids/typeIds starting at `offset`; returns the
 * number of tokens written. Without special tokens, only the sequences are written (type ids from
 * the template, as `tokenizers` does).
 */
export function applyTemplate(
  t: Template,
  a: Int32Array,
  b: Int32Array | undefined,
  addSpecial: boolean,
  ids: Int32Array,
  typeIds: Int32Array,
  offset = 0,
): number {
  let o = offset;
  for (const p of b ? t.pair : t.single) {
    const src = 'special' in p ? (addSpecial ? p.special : undefined) : p.sequence === 'A' ? a : b;
    if (!src) continue;
    ids.set(src, o);
    typeIds.fill(p.typeId, o, o + src.length);
    o += src.length;
  }
  return o - offset;
}

/** The template of a tokenizer.json `post_processor` (null: the sequences alone, B with type 1). */
export function templateFromJson(pp: unknown, source: string): Template {
  if (pp === null || pp === undefined) {
    return { single: [{ sequence: 'A', typeId: 0 }], pair: [{ sequence: 'A', typeId: 0 }, { sequence: 'B', typeId: 1 }] };
  }
  const o = pp as Record<string, unknown>;
  if (o.type === 'BertProcessing') {
    // BertProcessing stores [token, id] pairs.
    const c = Int32Array.of((o.cls as [string, number])[1]);
    const s = Int32Array.of((o.sep as [string, number])[1]);
    return {
      single: [{ special: c, typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: s, typeId: 0 }],
      pair: [{ special: c, typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: s, typeId: 0 }, { sequence: 'B', typeId: 1 }, { special: s, typeId: 1 }],
    };
  }
  if (o.type === 'TemplateProcessing') {
    const specials = (o.special_tokens ?? {}) as Record<string, { ids: number[] }>;
    const pieces = (items: unknown, which: string): TemplatePiece[] => {
      if (!Array.isArray(items)) throw new InputError(source, undefined, `post_processor.${which}`, 'expected a list of template pieces');
      return items.map((it: Record<string, { id: string; type_id?: number }>) => {
        if (it.SpecialToken) {
          const s = specials[it.SpecialToken.id];
          if (!s) throw new InputError(source, undefined, `post_processor.special_tokens`, `no entry for '${it.SpecialToken.id}'`);
          return { special: Int32Array.from(s.ids), typeId: it.SpecialToken.type_id ?? 0 };
        }
        if (it.Sequence && (it.Sequence.id === 'A' || it.Sequence.id === 'B')) return { sequence: it.Sequence.id, typeId: it.Sequence.type_id ?? 0 };
        throw new InputError(source, undefined, `post_processor.${which}`, `unknown template piece ${JSON.stringify(it)}`);
      });
    };
    return { single: pieces(o.single, 'single'), pair: pieces(o.pair, 'pair') };
  }
  throw new InputError(source, undefined, 'post_processor', `unsupported post-processor type '${String(o.type)}' (slimtext reads TemplateProcessing and BertProcessing)`);
}
