/**
 * `slimtext bench model --model DIR [--data PATH]`: load time, single-text p50/p99 latency and
 * batched throughput on 1..N threads, for any model. Argument parsing only; the work is
 * src/bench/model.ts.
 */
import { type Command, UsageError, flag, num, req, str } from './command.js';
import { benchModel } from '../bench/model.js';

const NAME = 'bench model';

export const command: Command = {
  name: NAME,
  summary:
    'How fast is a model: load time, single-text latency (p50/p99, one thread) and batched throughput on 1..N threads (one batch per worker thread, as slimtext serve runs them).',
  usage: '--model DIR [--data PATH] [--split S] [--threads 1,2] [--batch B] [--seconds S] [--json]',
  options: {
    model: { type: 'string', help: 'a model folder (any kind slimtext writes)' },
    data: { type: 'string', default: 'npm:nlp-corpus', help: 'texts to run: a data set (its --split; pairs for pair models) or an npm corpus' },
    split: { type: 'string', help: "split of --data (default: its test split, or its only one)" },
    'max-texts': { type: 'string', default: '2000', help: 'most texts taken from --data' },
    threads: { type: 'string', help: 'comma-separated thread counts for the batched figure (default: 1 and every core)' },
    batch: { type: 'string', default: '64', help: 'texts per batch in the batched figure' },
    seconds: { type: 'string', default: '3', help: 'seconds per measurement' },
    json: { type: 'boolean', help: 'print JSON only' },
  },
  async run(args) {
    const whole = (name: string) => {
      const v = num(args, NAME, name);
      if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new UsageError(`${NAME}: --${name} must be a positive whole number, got ${v}`);
      return v;
    };
    const t = str(args, 'threads');
    const threads = t?.split(',').map((x) => Number(x.trim()));
    if (threads && threads.some((n) => !(Number.isInteger(n) && n >= 1))) throw new UsageError(`${NAME}: --threads must be comma-separated positive whole numbers, got '${t}'`);
    const seconds = num(args, NAME, 'seconds');
    if (seconds !== undefined && !(seconds > 0)) throw new UsageError(`${NAME}: --seconds must be positive, got ${seconds}`);
    const json = flag(args, 'json');
    const res = await benchModel({
      model: req(args, NAME, 'model'),
      data: str(args, 'data'),
      split: str(args, 'split'),
      maxTexts: whole('max-texts'),
      threads,
      batch: whole('batch'),
      seconds,
      onLine: json ? undefined : (m) => console.error(m),
    });
    console.log(json ? JSON.stringify(res) : JSON.stringify(res, null, 2));
    return 0;
  },
};
