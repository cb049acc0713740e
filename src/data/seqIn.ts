/**
 * `seq.in` + `label` folders (SNIPS, ATIS, the BANKING77 few-shot splits): line i of `seq.in` is a
 * text, line i of `label` its label. A label joined with '#' (ATIS `atis_flight#atis_airfare`) is
 * one label string, as the data sets count it, with its parts in `labels`.
 */
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { type BadRow, type Example, type SplitSource, checkRow } from './dataset.js';
import { type TextEncoding, readLines } from './lines.js';

export interface SeqInOptions {
  encoding?: TextEncoding;
  /** Separator of multi-label rows (default '#'). */
  multiLabelSep?: string;
}

/** One split from a folder holding `seq.in` and `label`. */
export function seqInSource(dir: string, opts: SeqInOptions = {}): SplitSource {
  const textFile = join(dir, 'seq.in');
  return { file: textFile, format: 'seqin', examples: (bad) => readSeqIn(dir, opts, bad) };
}

async function* readSeqIn(dir: string, opts: SeqInOptions, bad: BadRow): AsyncGenerator<Example> {
  const textFile = join(dir, 'seq.in');
  const labelFile = join(dir, 'label');
  const sep = opts.multiLabelSep ?? '#';
  const texts = readLines(textFile, { encoding: opts.encoding, markInvalid: true });
  const labels = readLines(labelFile, { encoding: opts.encoding, markInvalid: true });
  try {
    for (;;) {
      const [t, l] = await Promise.all([texts.next(), labels.next()]);
      if (t.done && l.done) return;
      if (t.done || l.done) {
        // Misaligned files: every later pairing would be wrong, so this is never skippable.
        const [short, long, n] = t.done ? [textFile, labelFile, l.value!.line - 1] : [labelFile, textFile, t.value!.line - 1];
        throw new InputError(short, n + 1, undefined, `ends after ${n} lines but ${long} goes on; the files must have one line per example`);
      }
      if (t.value.invalid || l.value.invalid) {
        bad(new InputError(t.value.invalid ? textFile : labelFile, t.value.line, t.value.invalid ? 'text' : 'label', (t.value.invalid ?? l.value.invalid)!.reason));
        continue;
      }
      const label = l.value.text.trim();
      const ex: Example = { text: t.value.text, label, line: t.value.line };
      if (sep && label.includes(sep)) ex.labels = label.split(sep).map((s) => s.trim());
      if (ex.label === '') {
        bad(new InputError(labelFile, l.value.line, 'label', 'empty label'));
        continue;
      }
      if (checkRow(ex, textFile, bad, true)) yield ex;
    }
  } finally {
    await Promise.all([texts.return(undefined), labels.return(undefined)]);
  }
}
