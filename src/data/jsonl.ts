/**
 * JSON Lines: one object per line, fields chosen by name (or found among the usual names on the
 * first row). A label may be a string, a number, or an array (multi-label).
 */
import { InputError } from '../errors.js';
import { type BadRow, type Example, type SplitSource, checkRow } from './dataset.js';
import { LABEL_NAMES, PAIR_NAMES, TARGET_NAMES, TEXT_NAMES } from './delimited.js';
import { type TextEncoding, invalidIn, readLines } from './lines.js';

export interface JsonlOptions {
  text?: string;
  pair?: string;
  /** The label field; false for unlabelled records. */
  label?: string | false;
  target?: string;
  encoding?: TextEncoding;
}

export function jsonlSource(file: string, opts: JsonlOptions): SplitSource {
  return { file, format: 'jsonl', examples: (bad) => readJsonl(file, opts, bad) };
}

interface Fields {
  text: string;
  pair?: string;
  label?: string;
  target?: string;
}

async function* readJsonl(file: string, opts: JsonlOptions, bad: BadRow): AsyncGenerator<Example> {
  let fields: Fields | undefined;
  for await (const { text: raw, line, invalid } of readLines(file, { encoding: opts.encoding, markInvalid: true })) {
    if (raw.trim() === '' && !invalid) continue;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (e) {
      bad(invalid ?? new InputError(file, line, undefined, `invalid JSON (${(e as Error).message})`));
      continue;
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      bad(new InputError(file, line, undefined, 'expected a JSON object'));
      continue;
    }
    const rec = obj as Record<string, unknown>;
    if (invalid) {
      bad(invalidIn(invalid, Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, JSON.stringify(v)]))));
      continue;
    }
    fields ??= chooseFields(file, line, rec, opts);
    const ex: Example = { text: '', line };
    const text = stringField(rec, fields.text);
    if (text === undefined) {
      bad(new InputError(file, line, fields.text, 'missing or not a string'));
      continue;
    }
    ex.text = text;
    let missing: string | undefined;
    for (const key of ['pair', 'target'] as const) {
      const name = fields[key];
      if (name === undefined) continue;
      const v = stringField(rec, name);
      if (v === undefined) missing ??= name;
      else ex[key] = v;
    }
    if (missing !== undefined) {
      bad(new InputError(file, line, missing, 'missing or not a string'));
      continue;
    }
    if (fields.label !== undefined) {
      const v = rec[fields.label];
      if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number') && v.length > 0) {
        ex.labels = v.map((x) => String(x).trim());
        ex.label = ex.labels.join('#');
      } else if (typeof v === 'string' || typeof v === 'number') {
        ex.label = String(v).trim();
      } else {
        bad(new InputError(file, line, fields.label, v === undefined ? 'missing' : 'expected a string, number or list of them'));
        continue;
      }
    }
    if (checkRow(ex, file, bad, fields.label !== undefined, { text: fields.text, label: fields.label ?? 'label' })) yield ex;
  }
}

function chooseFields(file: string, line: number, rec: Record<string, unknown>, opts: JsonlOptions): Fields {
  const keys = Object.keys(rec);
  const pick = (name: string | undefined, known: string[]) => name ?? keys.find((k) => known.includes(k.toLowerCase()));
  const text = pick(opts.text, TEXT_NAMES);
  if (text === undefined) throw new InputError(file, line, 'text', `no text field (has: ${keys.join(', ')}); name one`);
  const label = opts.label === false ? undefined : pick(opts.label, LABEL_NAMES);
  if (label === undefined && opts.label !== false) throw new InputError(file, line, 'label', `no label field (has: ${keys.join(', ')}); name one, or read it as unlabelled`);
  return { text, label, pair: pick(opts.pair, PAIR_NAMES), target: pick(opts.target, TARGET_NAMES) };
}

function stringField(rec: Record<string, unknown>, name: string): string | undefined {
  const v = rec[name];
  return typeof v === 'string' ? v : undefined;
}
