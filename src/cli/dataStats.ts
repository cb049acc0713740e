/** `slimtext data stats PATH`: per-split rows, labels and lengths of a labelled data set. */
import { type OpenOptions, FORMAT_ALIASES, openDataset } from '../data/open.js';
import { datasetStats } from '../data/stats.js';
import { unseenWarning } from '../data/labelMap.js';
import { type Command, type ParsedArgs, UsageError, flag, str } from './command.js';

const NAME = 'data stats';

export const command: Command = {
  name: NAME,
  summary:
    'Print per split the row count, label count and length in words (mean/median/max) of a data set: a file, ' +
    'or a folder (all its splits). Labels in dev/test that training lacks are reported on stderr.',
  usage: 'PATH [--format F] [--split S] [--json] [--skip-bad]',
  positionals: true,
  options: {
    format: { type: 'string', help: `format, detected from the path when absent: ${[...new Set(Object.keys(FORMAT_ALIASES))].join(', ')}` },
    split: { type: 'string', help: 'only this split (dev, val, valid and validation name the same split)' },
    json: { type: 'boolean', help: 'print {"splits": {"train": {"rows": n, "labels": n, "mean_words": x, ...}, ...}}' },
    'skip-bad': { type: 'boolean', help: 'skip bad rows (and report how many) instead of stopping at the first' },
    text: { type: 'string', help: 'text column (CSV/TSV header name or 0-based index; JSONL field); several: a,b' },
    label: { type: 'string', help: 'label column or field (ConvLab: act, emotion or topic)' },
    pair: { type: 'string', help: 'second-text column or field, for pair data' },
    target: { type: 'string', help: 'reply column or field, for message -> reply data' },
    unlabelled: { type: 'boolean', help: 'the file has no labels' },
    header: { type: 'string', default: 'auto', help: 'CSV/TSV first row is a header: yes, no or auto' },
    delimiter: { type: 'string', help: 'CSV/TSV field delimiter (default: tab for .tsv, comma otherwise)' },
    'no-quote': { type: 'boolean', help: 'CSV/TSV: double quotes are ordinary characters' },
    encoding: { type: 'string', help: 'utf-8 or latin1 (default utf-8; TREC files latin1)' },
    unit: { type: 'string', help: 'ConvLab dialogues: pairs (message -> reply, default) or turns' },
    oos: { type: 'string', default: 'separate', help: 'CLINC: out-of-scope splits separate, or merge (oos_train into train ...)' },
    'fine-labels': { type: 'boolean', help: 'TREC: keep COARSE:fine labels whole' },
  },
  async run(args) {
    if (args.positionals.length !== 1) throw new UsageError(`${NAME}: expected one PATH, got ${args.positionals.length} (see slimtext ${NAME} --help)`);
    const path = args.positionals[0]!;
    const ds = await openDataset(path, openOptions(args));
    const report = await datasetStats(ds, { split: str(args, 'split'), skipBad: flag(args, 'skip-bad') });
    for (const note of ds.notes) console.error(`note: ${note}`);
    for (const [split, first] of Object.entries(report.skippedExamples)) {
      const n = report.stats.splits[split]!.skipped;
      console.error(`skipped ${n} bad row${n === 1 ? '' : 's'} in ${split}; first: ${first.join('; ')}`);
    }
    for (const u of report.unseen) console.error(unseenWarning(u)!);
    if (flag(args, 'json')) {
      console.log(JSON.stringify(report.stats));
      return 0;
    }
    console.log(`${ds.path} (${ds.format})`);
    const splits = Object.entries(report.stats.splits);
    const pairs = splits.some(([, s]) => s.pair_mean_words !== undefined);
    const replies = splits.some(([, s]) => s.target_mean_words !== undefined);
    const head = ['split', 'rows', 'labels', 'mean_words', 'median_words', 'max_words', ...(pairs ? ['pair_mean_words'] : []), ...(replies ? ['reply_mean_words'] : []), 'skipped'];
    const rows = splits.map(([name, s]) =>
      [name, s.rows, s.labels, s.mean_words.toFixed(2), s.median_words, s.max_words, ...(pairs ? [s.pair_mean_words?.toFixed(2) ?? '-'] : []), ...(replies ? [s.target_mean_words?.toFixed(2) ?? '-'] : []), s.skipped].map(String),
    );
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const r of [head, ...rows]) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
    return 0;
  },
};

function openOptions(args: ParsedArgs): OpenOptions {
  const header = str(args, 'header') ?? 'auto';
  if (!['yes', 'no', 'auto'].includes(header)) throw new UsageError(`${NAME}: --header must be yes, no or auto, got '${header}'`);
  const encoding = str(args, 'encoding')?.toLowerCase();
  if (encoding !== undefined && !['utf-8', 'utf8', 'latin1', 'iso-8859-1'].includes(encoding)) throw new UsageError(`${NAME}: --encoding must be utf-8 or latin1, got '${encoding}'`);
  const unit = str(args, 'unit');
  if (unit !== undefined && unit !== 'pairs' && unit !== 'turns') throw new UsageError(`${NAME}: --unit must be pairs or turns, got '${unit}'`);
  const oos = str(args, 'oos') ?? 'separate';
  if (oos !== 'separate' && oos !== 'merge') throw new UsageError(`${NAME}: --oos must be separate or merge, got '${oos}'`);
  const text = str(args, 'text');
  const label = str(args, 'label');
  if (label !== undefined && flag(args, 'unlabelled')) throw new UsageError(`${NAME}: --label and --unlabelled contradict each other`);
  const delimiter = str(args, 'delimiter');
  return {
    format: str(args, 'format'),
    text: text?.includes(',') ? text.split(',') : text,
    label: flag(args, 'unlabelled') ? false : label,
    pair: str(args, 'pair'),
    target: str(args, 'target'),
    header: header === 'auto' ? 'auto' : header === 'yes',
    delimiter: delimiter === '\\t' || delimiter === 'tab' ? '\t' : delimiter,
    quote: !flag(args, 'no-quote'),
    encoding: encoding === undefined ? undefined : encoding.startsWith('utf') ? 'utf-8' : 'latin1',
    unit,
    oos,
    fineLabels: flag(args, 'fine-labels'),
  };
}
