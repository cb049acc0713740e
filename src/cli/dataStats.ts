/** `slimtext data stats PATH`: per-split rows, labels and lengths of a labelled data set. */
import { openDataset } from '../data/open.js';
import { DATA_OPTIONS, dataOptions } from './dataOptions.js';
import { datasetStats } from '../data/stats.js';
import { unseenWarning } from '../data/labelMap.js';
import { type Command, UsageError, flag, str } from './command.js';

const NAME = 'data stats';

export const command: Command = {
  name: NAME,
  summary:
    'Print per split the row count, label count and length in words (mean/median/max) of a data set: a file, ' +
    'or a folder (all its splits). Labels in dev/test that training lacks are reported on stderr.',
  usage: 'PATH [--format F] [--split S] [--json] [--skip-bad]',
  positionals: true,
  options: {
    split: { type: 'string', help: 'only this split (dev, val, valid and validation name the same split)' },
    json: { type: 'boolean', help: 'print {"splits": {"train": {"rows": n, "labels": n, "mean_words": x, ...}, ...}}' },
    ...DATA_OPTIONS,
  },
  examples: [
    'data stats ../shared/data/clinc150 --json',
    'data stats reviews.csv --text review --label stars --delimiter ";" --skip-bad',
  ],
  async run(args) {
    if (args.positionals.length !== 1) throw new UsageError(`${NAME}: expected one PATH, got ${args.positionals.length} (see slimtext ${NAME} --help)`);
    const path = args.positionals[0]!;
    const ds = await openDataset(path, dataOptions(args, NAME));
    const report = await datasetStats(ds, { split: str(args, 'split'), skipBad: flag(args, 'skip-bad') });
    for (const note of ds.notes) console.error(`note: ${note}`);
    for (const [split, first] of Object.entries(report.skippedExamples)) {
      const n = report.stats.splits[split]!.skipped;
      console.error(`skipped ${n} bad row${n === 1 ? '' : 's'} in ${split}; first: ${first.join('; ')}`);
    }
    for (const u of report.unseen) console.error(unseenWarning(u)!);
    for (const [split, s] of Object.entries(report.stats.splits)) if (s.rows === 0) console.error(`warning: ${split} holds no examples`);
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
