/**
 * `slimtext predict --model DIR [--top-k K] [--json] < lines`: one prediction per input line:
 * `LABEL<TAB>SCORE` (or the top k label/score pairs, tab-separated) for classifiers, the top k
 * replies with their scores for reply models. Pair models read `TEXT<TAB>PAIR` lines.
 * Argument parsing only; the work is models/predictor.ts.
 */
import { streamLineBatches } from '../data/corpusStream.js';
import { type Command, UsageError, flag, num, req, str } from './command.js';
import { setThreads } from './finetune.js';
import { loadModelOrMultiTask } from '../models/anyModel.js';
import { unfinishedRunNote } from '../train/finetune/finetune.js';
import { MultiTaskPredictor, Predictor, type Ranked } from '../models/predictor.js';
import { QUANTIZE_OPTION, quantizeOption } from './quantize.js';

const NAME = 'predict';

export const command: Command = {
  name: NAME,
  summary: 'Read lines on stdin and print, per line, the predicted label (or the top-k replies of a reply model) with scores.',
  usage: '--model DIR [--tasks a,b] [--top-k K] [--json] [--threads N] [--quantize int8] < lines.txt',
  options: {
    model: { type: 'string', help: 'a model folder written by slimtext finetune or slimtext distill' },
    'top-k': { type: 'string', help: 'labels or replies per line (default 1 for classifiers, 3 for reply models)' },
    tasks: { type: 'string', help: 'multi-task models: the tasks to answer, comma-separated (default: all, in one trunk pass)' },
    json: { type: 'boolean', help: 'one JSON object per line: {"label", "score", "top": [...]} or {"replies": [{"text", "score"}, ...]}; multi-task: {"TASK": {"label", "score", "top"}, ...}' },
    'batch-size': { type: 'string', default: '64', help: 'lines predicted together' },
    threads: { type: 'string', help: 'threads the kernels may use (default: all cores)' },
    ...QUANTIZE_OPTION,
  },
  examples: [
    'predict --model trec-model < questions.txt',
    'predict --model trec-dan --top-k 3 --json < questions.txt',
  ],
  async run(args) {
    const k = num(args, NAME, 'top-k');
    if (k !== undefined && !(Number.isInteger(k) && k >= 1)) throw new UsageError(`${NAME}: --top-k must be a positive integer, got ${k}`);
    const batchSize = num(args, NAME, 'batch-size') ?? 64;
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new UsageError(`${NAME}: --batch-size must be a positive integer, got ${batchSize}`);
    setThreads(args, NAME);
    const dir = req(args, NAME, 'model');
    const unfinished = unfinishedRunNote(dir);
    if (unfinished) console.error(unfinished);
    const loaded = await loadModelOrMultiTask(dir);
    const tasks = str(args, 'tasks')?.split(',').map((t) => t.trim()).filter(Boolean);
    if (tasks !== undefined && 'single' in loaded) throw new UsageError(`${NAME}: --tasks is for multi-task models (slimtext merge); this model has one task`);
    const opts = { ...(k !== undefined ? { topK: k } : {}), batchSize, quantize: quantizeOption(args, NAME) };
    const json = flag(args, 'json');
    const label = (r: Ranked[]) => ({ label: r[0]!.text, score: round(r[0]!).score, top: r.map((x) => ({ label: x.text, score: round(x).score })) });
    const plain = (r: Ranked[]) => r.map((x) => `${x.text}\t${x.score.toFixed(4)}`).join('\t');
    let pair = false;
    let p: { predict(inputs: readonly (string | readonly [string, string])[]): string[] };
    if ('multi' in loaded) {
      const mp = new MultiTaskPredictor(loaded.multi, tasks, opts);
      p = {
        predict: (inputs) => mp.predict(inputs.map((x) => (typeof x === 'string' ? x : x[0]))).map((byTask) =>
          json ? JSON.stringify(Object.fromEntries(Object.entries(byTask).map(([t, r]) => [t, label(r)]))) : Object.entries(byTask).map(([t, r]) => `${t}\t${plain(r)}`).join('\t')),
      };
    } else {
      const model = loaded.single;
      const sp = new Predictor(model, opts);
      pair = model.task === 'pair';
      p = {
        predict: (inputs) => sp.predict(inputs).map((r) => {
          if (!json) return plain(r);
          if (model.task === 'reply') return JSON.stringify({ replies: r.map(round) });
          return JSON.stringify(label(r));
        }),
      };
    }
    const flush = async (lines: string[]) => {
      if (lines.length === 0) return;
      const inputs = lines.map((l) => {
        if (!pair) return l;
        const tab = l.indexOf('\t');
        return tab < 0 ? ([l, ''] as const) : ([l.slice(0, tab), l.slice(tab + 1)] as const);
      });
      const out = p.predict(inputs).map((r) => `${r}\n`).join('');
      if (!process.stdout.write(out)) await new Promise((res) => process.stdout.once('drain', res));
    };
    let pending: string[] = [];
    for await (const batch of streamLineBatches(process.stdin, '<stdin>')) {
      for (const line of batch.lines) {
        pending.push(line);
        if (pending.length >= batchSize * 8) {
          await flush(pending);
          pending = [];
        }
      }
    }
    await flush(pending);
    return 0;
  },
};

function round(r: Ranked): Ranked {
  return { text: r.text, score: Math.round(r.score * 1e4) / 1e4 };
}
