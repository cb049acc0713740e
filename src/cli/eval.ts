/**
 * `slimtext eval --model DIR --data PATH [--split test] [--threads N] --json`: held-out metrics of a
 * fine-tuned model. Argument parsing only; the work is train/evaluate.ts.
 */
import { type Command, flag, req, str, whole } from './command.js';
import { DATA_OPTIONS, dataOptions } from './dataOptions.js';
import { setThreads } from './finetune.js';
import { loadAnyModel } from '../models/anyModel.js';
import { unfinishedRunNote } from '../train/finetune/finetune.js';
import { inspectModel } from '../models/inspect.js';
import { evaluateTaskModel } from '../train/tasks/evaluate.js';
import { QUANTIZE_OPTION, quantizeOption } from './quantize.js';

const NAME = 'eval';

export const command: Command = {
  name: NAME,
  summary:
    'Evaluate a fine-tuned model on a data split: accuracy, macro_f1, n and throughput_per_s for classifiers; ' +
    'recall_at_1, recall_at_5 and mrr on the 1-of-100 reply retrieval test for reply models.',
  usage: '--model DIR [--task NAME] --data PATH [--split test] [--threads N] [--quantize int8] [--json]',
  options: {
    model: { type: 'string', help: 'a model folder written by slimtext finetune or slimtext distill' },
    task: { type: 'string', help: 'the task to evaluate, for a multi-task model (slimtext merge)' },
    data: { type: 'string', help: 'evaluation data (any format slimtext reads)' },
    split: { type: 'string', help: 'split to evaluate (default: the only split, else test)' },
    'batch-size': { type: 'string', default: '128', help: 'examples per batch' },
    'max-examples': { type: 'string', help: 'evaluate a seeded sample of at most N examples' },
    seed: { type: 'string', default: '0', help: 'seed of the sample and of the 1-of-100 candidates' },
    threads: { type: 'string', help: 'threads the kernels may use (1: the single-core figure)' },
    json: { type: 'boolean', help: 'print one JSON object' },
    ...QUANTIZE_OPTION,
    ...DATA_OPTIONS,
  },
  examples: [
    'eval --model trec-model --data ../shared/data/trec --split test --json',
    'eval --model trec-dan --data test.tsv --text sentence --label label',
  ],
  async run(args) {
    setThreads(args, NAME);
    const batchSize = whole(args, NAME, 'batch-size', 1) ?? 128;
    const maxExamples = whole(args, NAME, 'max-examples', 1);
    const seed = whole(args, NAME, 'seed', 0);
    const data_ = dataOptions(args, NAME);
    const dir = req(args, NAME, 'model');
    const data = req(args, NAME, 'data');
    const unfinished = unfinishedRunNote(dir);
    if (unfinished) console.error(unfinished);
    const model = await loadAnyModel(dir, { task: str(args, 'task') });
    const report = await evaluateTaskModel(model, data, {
      split: str(args, 'split'), data: data_, batchSize, maxExamples, seed,
      warn: (l) => console.error(l), quantize: quantizeOption(args, NAME),
    });
    const info = await inspectModel(dir);
    const int8 = info.linear_format === 'int8' ? 'saved' : quantizeOption(args, NAME) === 'int8' ? 'at-load' : 'none';
    Object.assign(report, { bytes_on_disk: info.bytes_on_disk, embedding_bytes: info.embedding_bytes, linear_format: info.linear_format, linear_bytes: info.linear_bytes, int8 });
    if (flag(args, 'json')) {
      console.log(JSON.stringify(report));
    } else {
      console.log(`${dir} on ${data} (${report.split}, ${report.n} examples, task ${model.task})`);
      for (const [k, v] of Object.entries(report)) if (k !== 'split' && k !== 'n') console.log(`  ${k.padEnd(18)}${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : v}`);
    }
    return 0;
  },
};
