/**
 * `slimtext report MODEL_DIR... --data PATH [--split test] [--out report.html] [--json]` and
 * `slimtext report --bench FILE.json`: the trade-off in pictures, one self-contained HTML file
 * (src/eval/report/). Argument parsing only.
 */
import { resolve } from 'node:path';
import { checkOutputPath } from '../io/outputPath.js';
import { buildBenchReport, buildModelReport, openCommand, writeReport, type ReportData } from '../eval/report/index.js';
import { type Command, type ParsedArgs, UsageError, flag, num, str } from './command.js';
import { DATA_OPTIONS, dataOptions, setThreads } from './finetune.js';

const NAME = 'report';

export const command: Command = {
  name: NAME,
  summary:
    'Compare models in one self-contained HTML file (no network): accuracy against one-core latency, bytes by part, training curves, ' +
    'per-class F1 and confusion matrix of the best model, and a table of every figure with the command that made it; or draw a bench\'s JSON (--bench).',
  usage: 'MODEL_DIR... --data PATH [--split test] [--out report.html] [--json] | --bench FILE.json [--out FILE.html]',
  positionals: true,
  options: {
    data: { type: 'string', help: 'evaluation data every model is scored on (any format slimtext reads)' },
    split: { type: 'string', help: 'split of --data (default: the only split, else test)' },
    bench: { type: 'string', help: 'instead of models: the JSON printed by bench/finetune.ts or bench/distill.ts' },
    'bench-command': { type: 'string', help: 'the command that printed --bench, when its JSON does not record it' },
    out: { type: 'string', help: 'where to write the report (default: report.html; with --json: stdout)' },
    overwrite: { type: 'boolean', help: 'replace an existing --out' },
    json: { type: 'boolean', help: 'write the report\'s data (every chart\'s rows, the tables) as JSON instead of HTML' },
    title: { type: 'string', help: 'the report\'s title' },
    'max-examples': { type: 'string', help: 'score a seeded sample of at most N rows of --data' },
    'measure-seconds': { type: 'string', default: '1', help: 'seconds of latency measurement per model (one text per call, one core)' },
    threads: { type: 'string', help: 'threads the kernels may use while scoring (latency always runs on one)' },
    quiet: { type: 'boolean', help: 'no progress lines on stderr' },
    ...DATA_OPTIONS,
  },
  async run(args) {
    setThreads(args, NAME);
    const bench = str(args, 'bench');
    const models = args.positionals;
    const json = flag(args, 'json');
    const log = flag(args, 'quiet') ? undefined : (l: string) => console.error(l);
    const line = commandLine(args);
    const out = str(args, 'out') ?? (json ? undefined : 'report.html');
    // Before any scoring: an output that cannot be written fails now, not after the work.
    if (out !== undefined) checkOutputPath(out, { kind: 'file', overwrite: flag(args, 'overwrite') });
    let report: ReportData;
    if (bench !== undefined) {
      if (models.length) throw new UsageError(`${NAME}: give model folders or --bench, not both`);
      report = buildBenchReport(bench, { command: str(args, 'bench-command'), reportCommand: line });
    } else {
      if (!models.length) throw new UsageError(`${NAME}: give one or more model folders (or --bench FILE.json); see slimtext ${NAME} --help`);
      const data = str(args, 'data');
      if (!data) throw new UsageError(`${NAME}: --data is required: the evaluation set every model is scored on`);
      const seconds = num(args, NAME, 'measure-seconds') ?? 1;
      if (!(seconds > 0)) throw new UsageError(`${NAME}: --measure-seconds must be positive, got ${seconds}`);
      const max = num(args, NAME, 'max-examples');
      if (max !== undefined && !(Number.isInteger(max) && max >= 1)) throw new UsageError(`${NAME}: --max-examples must be a whole number >= 1, got ${max}`);
      report = await buildModelReport({
        models, data, split: str(args, 'split'), dataOptions: dataOptions(args, NAME), maxExamples: max, measureSeconds: seconds,
        title: str(args, 'title'), command: line, log,
      });
    }
    if (out === undefined) {
      console.log(JSON.stringify(report));
      return 0;
    }
    await writeReport(out, report, { json, overwrite: flag(args, 'overwrite') });
    console.log(json ? `wrote ${out}` : `wrote ${out}; open it with: ${openCommand(resolve(out))}`);
    return 0;
  },
};

/** The command line as given (defaults left out), to print in the report as what made it. */
function commandLine(args: ParsedArgs): string {
  const quote = (v: string) => (/^[\w./:@=,+-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);
  const opts = Object.entries(args.values).flatMap(([k, v]) => {
    if (v === undefined || v === false || ['overwrite', 'quiet'].includes(k) || v === command.options[k]?.default) return [];
    return v === true ? [`--${k}`] : [`--${k}`, quote(String(v))];
  });
  return ['slimtext', NAME, ...args.positionals.map(quote), ...opts].join(' ');
}
