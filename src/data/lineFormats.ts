/**
 * Formats with one example per line and the label inside the line:
 *  - TREC: `LABEL text` (label = first token; `COARSE:fine` keeps COARSE as label, the full form in
 *    meta.fine). The real TREC train file is Latin-1 (one 0xF0 byte), so this format reads Latin-1
 *    unless told otherwise; ASCII files read the same either way.
 *  - semicolon: `text;label` (CARER emotion), optional `text;label_name` header; the label is after
 *    the LAST ';' so a text may contain ';'.
 *  - plain: one unlabelled text per line.
 */
import { InputError } from '../errors.js';
import { type BadRow, type Example, type SplitSource, checkRow } from './dataset.js';
import { type TextEncoding, invalidIn, readLines } from './lines.js';

export interface LineFormatOptions {
  encoding?: TextEncoding;
  /** TREC: use the full `COARSE:fine` label instead of COARSE. */
  fineLabels?: boolean;
}

export function trecSource(file: string, opts: LineFormatOptions = {}): SplitSource {
  return { file, format: 'trec', examples: (bad) => readTrec(file, opts, bad) };
}

export function semicolonSource(file: string, opts: LineFormatOptions = {}): SplitSource {
  return { file, format: 'semicolon', examples: (bad) => readSemicolon(file, opts, bad) };
}

export function plainSource(file: string, opts: LineFormatOptions = {}): SplitSource {
  return { file, format: 'lines', examples: (bad) => readPlain(file, opts, bad) };
}

async function* readTrec(file: string, opts: LineFormatOptions, bad: BadRow): AsyncGenerator<Example> {
  for await (const { text: raw, line, invalid } of readLines(file, { encoding: opts.encoding ?? 'latin1', markInvalid: true })) {
    if (raw.trim() === '' && !invalid) continue;
    const m = /^\s*(\S+)\s+(.*)$/.exec(raw);
    if (!m) {
      bad(invalid ?? new InputError(file, line, 'text', 'expected `LABEL text`, found one token'));
      continue;
    }
    if (invalid) {
      bad(invalidIn(invalid, { label: m[1], text: m[2] }));
      continue;
    }
    const full = m[1]!;
    const colon = full.indexOf(':');
    const ex: Example = { text: m[2]!, label: colon > 0 && !opts.fineLabels ? full.slice(0, colon) : full, line };
    if (colon > 0) ex.meta = { fine: full };
    if (checkRow(ex, file, bad, true)) yield ex;
  }
}

async function* readSemicolon(file: string, opts: LineFormatOptions, bad: BadRow): AsyncGenerator<Example> {
  for await (const { text: raw, line, invalid } of readLines(file, { encoding: opts.encoding, markInvalid: true })) {
    if (raw.trim() === '' && !invalid) continue;
    const cut = raw.lastIndexOf(';');
    if (cut < 0) {
      bad(invalid ?? new InputError(file, line, 'label', "no ';' before a label"));
      continue;
    }
    const ex: Example = { text: raw.slice(0, cut), label: raw.slice(cut + 1).trim(), line };
    if (invalid) {
      bad(invalidIn(invalid, { text: ex.text, label: ex.label }));
      continue;
    }
    if (line === 1 && ex.text.trim().toLowerCase() === 'text' && /^label/i.test(ex.label!)) continue;
    if (checkRow(ex, file, bad, true)) yield ex;
  }
}

async function* readPlain(file: string, opts: LineFormatOptions, bad: BadRow): AsyncGenerator<Example> {
  for await (const { text, line, invalid } of readLines(file, { encoding: opts.encoding, markInvalid: true })) {
    if (invalid) {
      bad(invalidIn(invalid, { text }));
      continue;
    }
    if (text.trim() === '') continue;
    yield { text, line };
  }
}
