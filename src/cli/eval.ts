/**
 * `slimtext eval --model DIR --data PATH [--split test] [--threads N] --json`: held-out metrics of a
 * fine-tuned model. Argument parsing only; the work is train/evaluate.ts.
 */
import { type Command, UsageError, flag, num, req, str } from './command.js';
import { DATA_OPTIONS, dataOptions, setThreads } from './finetune.js';
import { loadAnyModel } from '../models/anyModel.js';
import { evaluateTaskModel } from '../train/tasks/evaluate.js';
import { QUANTIZE_OPTION, quantizeOption } from './quantize.js';

const NAME = 'eval';

export const command: Command = {
  name: NAME,
  summary:
    'Evaluate a fine-tuned model on a data split: accuracy, macro_f1, n and throughput_per_s for classifiers; ' +
    'recall_at_1, recall_at_5 and mrr on the 1-of-100 reply retrieval test for reply models.',
  usage: '--model DIR --data PATH [--split test] [--threads N] [--quantize int8] [--json]',
  options: {
    model: { type: 'string', help: 'a model folder written by slimtext finetune or slimtext distill' },
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
  async run(args) {
    const int = (name: string) => {
      const v = num(args, NAME, name);
      if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new UsageError(`${NAME}: --${name} must be a non-negative integer, got ${v}`);
      return v;
    };
    setThreads(args, NAME);
    const dir = req(args, NAME, 'model');
    const data = req(args, NAME, 'data');
    const model = await loadAnyModel(dir);
    const report = await evaluateTaskModel(model, data, {
      split: str(args, 'split'), data: dataOptions(args, NAME), batchSize: int('batch-size') || 128, maxExamples: int('max-examples'), seed: int('seed'),
      warn: (l) => console.error(l), quantize: quantizeOption(args, NAME),
    });
    if (flag(args, 'json')) {
      console.log(JSON.stringify(report));
    } else {
      console.log(`${dir} on ${data} (${report.split}, ${report.n} examples, task ${model.task})`);
      for (const [k, v] of Object.entries(report)) if (k !== 'split' && k !== 'n') console.log(`  ${k.padEnd(18)}${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : v}`);
    }
    return 0;
  },
};
