/**
 * `slimtext merge --out MT BRANCH_DIR...` and `slimtext merge --model MT --add DIR | --update DIR |
 * --remove NAME`: one multi-task model from branch models, and one task changed at a time.
 * Argument parsing only; the work is train/multitask/merge.ts.
 */
import { changeBranches, mergeBranches, type BranchSource, type MergeResult } from '../train/multitask/merge.js';
import { type Command, UsageError, flag, str } from './command.js';

const NAME = 'merge';

export const command: Command = {
  name: NAME,
  summary:
    'Merges branch models (classifiers fine-tuned with --freeze-embeddings --freeze-layers K, or distilled from one with slimtext distill --teacher) into one multi-task model: ' +
    'the frozen trunk once, each task a small branch at its own depth. With --model, adds, replaces or removes one task and leaves every other task\'s bytes untouched.',
  usage: '--out MT [--overwrite] [NAME=]BRANCH_DIR... | --model MT [--add [NAME=]DIR]... [--update [NAME=]DIR]... [--remove NAME]...',
  positionals: true,
  options: {
    out: { type: 'string', help: 'the multi-task model folder to write' },
    overwrite: { type: 'boolean', help: 'replace an existing --out' },
    name: { type: 'string', multiple: true, help: 'a branch with its task name, NAME=DIR (repeatable; plain folders are named after themselves)' },
    model: { type: 'string', help: 'an existing multi-task model to change in place' },
    add: { type: 'string', multiple: true, help: 'add a task from a branch folder, [NAME=]DIR' },
    update: { type: 'string', multiple: true, help: 'replace a task with a retrained branch, [NAME=]DIR' },
    remove: { type: 'string', multiple: true, help: 'remove a task by name' },
    json: { type: 'boolean', help: 'print the result as JSON' },
  },
  async run(args) {
    const list = (k: string) => (args.values[k] as string[] | undefined) ?? [];
    const out = str(args, 'out');
    const model = str(args, 'model');
    let r: MergeResult;
    if (model !== undefined) {
      if (out !== undefined || args.positionals.length || list('name').length) throw new UsageError(`${NAME}: --model changes a model in place; give branches with --add / --update, not --out or plain folders`);
      if (!list('add').length && !list('update').length && !list('remove').length) throw new UsageError(`${NAME}: --model needs --add, --update or --remove`);
      r = await changeBranches(model, { add: list('add').map(source), update: list('update').map(source), remove: list('remove') });
    } else {
      if (!out) throw new UsageError(`${NAME}: give --out MT and branch folders, or --model MT with --add / --update / --remove (see slimtext ${NAME} --help)`);
      if (list('add').length || list('update').length || list('remove').length) throw new UsageError(`${NAME}: --add / --update / --remove change an existing model: use them with --model`);
      const sources = [...list('name'), ...args.positionals].map(source);
      if (!sources.length) throw new UsageError(`${NAME}: give at least one branch folder`);
      r = await mergeBranches(out, sources, { overwrite: flag(args, 'overwrite') });
    }
    if (flag(args, 'json')) console.log(JSON.stringify(r));
    else {
      console.log(`${r.out}: trunk of ${r.trunkLayers} layers (${r.trunkId.slice(0, 12)}), ${r.tasks.length} tasks`);
      for (const t of r.tasks) console.log(`  ${t.name.padEnd(16)}${t.labels} labels, ${t.layers} layer${t.layers === 1 ? '' : 's'} from layer ${t.start_layer}  ${r.written.includes(t.weights) ? 'written' : 'unchanged'}`);
    }
    return 0;
  },
};

/** `DIR` or `NAME=DIR`. */
function source(s: string): BranchSource {
  const m = /^([A-Za-z0-9][\w.-]*)=(.+)$/.exec(s);
  return m ? { name: m[1]!, dir: m[2]! } : { dir: s };
}
