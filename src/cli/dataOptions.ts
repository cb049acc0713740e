/**
 * The one set of options naming how a data file is read, shared by every command that reads
 * labelled data (finetune, eval, distill, label's data: corpora, data stats): one definition,
 * one parser, the same names, defaults and checks everywhere.
 */
import { FORMAT_ALIASES, type OpenOptions } from '../data/open.js';
import { type OptionSpec, type ParsedArgs, UsageError, flag, str } from './command.js';

export const DATA_OPTIONS: Record<string, OptionSpec> = {
  format: { type: 'string', help: `data format, detected from the path when absent: ${[...new Set(Object.keys(FORMAT_ALIASES))].join(', ')}` },
  text: { type: 'string', help: 'text column (CSV/TSV header name or 0-based index; JSONL field); several: a,b' },
  pair: { type: 'string', help: 'second-text column or field (pair task)' },
  label: { type: 'string', help: 'label column or field (ConvLab: act, emotion or topic)' },
  target: { type: 'string', help: 'reply column or field (reply task)' },
  unlabelled: { type: 'boolean', help: 'the file has no labels' },
  header: { type: 'string', default: 'auto', placeholder: 'yes|no|auto', help: 'CSV/TSV first row is a header' },
  delimiter: { type: 'string', placeholder: 'CHAR', help: 'CSV/TSV field delimiter (default: tab for .tsv, comma otherwise; tab or \\t for a tab)' },
  'no-quote': { type: 'boolean', help: 'CSV/TSV: double quotes are ordinary characters' },
  encoding: { type: 'string', placeholder: 'utf-8|latin1', help: 'text encoding (default utf-8; TREC files latin1)' },
  'skip-bad': { type: 'boolean', help: 'skip bad rows (and report how many) instead of stopping at the first' },
  unit: { type: 'string', placeholder: 'pairs|turns', help: 'ConvLab dialogues: message -> reply pairs (default) or single turns' },
  oos: { type: 'string', default: 'separate', placeholder: 'separate|merge', help: 'CLINC: out-of-scope rows as separate splits, or merge them into train/val/test' },
  'fine-labels': { type: 'boolean', help: 'TREC: keep COARSE:fine labels whole' },
};

/** The OpenOptions the DATA_OPTIONS of `args` mean; bad values are usage errors naming the option. */
export function dataOptions(args: ParsedArgs, cmd: string): OpenOptions {
  const oneOf = (name: string, allowed: string[]): string | undefined => {
    const v = str(args, name);
    if (v !== undefined && !allowed.includes(v.toLowerCase())) throw new UsageError(`${cmd}: --${name} must be ${allowed.slice(0, -1).join(', ')} or ${allowed.at(-1)}, got '${v}'`);
    return v?.toLowerCase();
  };
  const header = oneOf('header', ['yes', 'no', 'auto']) ?? 'auto';
  const encoding = oneOf('encoding', ['utf-8', 'utf8', 'latin1', 'iso-8859-1']);
  const unit = oneOf('unit', ['pairs', 'turns']) as OpenOptions['unit'];
  const oos = (oneOf('oos', ['separate', 'merge']) ?? 'separate') as OpenOptions['oos'];
  const col = (name: string) => {
    const v = str(args, name);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : v;
  };
  const text = str(args, 'text');
  const label = col('label');
  if (label !== undefined && flag(args, 'unlabelled')) throw new UsageError(`${cmd}: --label and --unlabelled contradict each other`);
  const delimiter = str(args, 'delimiter');
  if (delimiter !== undefined && delimiter === '') throw new UsageError(`${cmd}: --delimiter is empty`);
  return {
    format: str(args, 'format'),
    text: text?.includes(',') ? text.split(',').map((t) => (/^\d+$/.test(t) ? Number(t) : t)) : col('text'),
    label: flag(args, 'unlabelled') ? false : label,
    pair: col('pair'),
    target: col('target'),
    header: header === 'auto' ? 'auto' : header === 'yes',
    delimiter: delimiter === '\\t' || delimiter === 'tab' ? '\t' : delimiter,
    quote: !flag(args, 'no-quote'),
    encoding: encoding === undefined ? undefined : encoding.startsWith('utf') ? 'utf-8' : 'latin1',
    unit,
    oos,
    fineLabels: flag(args, 'fine-labels'),
    skipBad: flag(args, 'skip-bad'),
  };
}
