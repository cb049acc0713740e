/** `slimtext inspect --model DIR [--json]`: what a model is and weighs (models/inspect.ts). */
import { type Command, flag, req } from './command.js';
import { inspectModel } from '../models/inspect.js';

const NAME = 'inspect';

export const command: Command = {
  name: NAME,
  summary: 'Describe a model folder: kind, task, labels, bytes on disk, embedding bytes, parameters, table format, compression recipe and metrics.',
  usage: '--model DIR [--json]',
  options: {
    model: { type: 'string', help: 'a slimtext model folder' },
    json: { type: 'boolean', help: 'print one JSON object' },
  },
  async run(args) {
    const info = await inspectModel(req(args, NAME, 'model'));
    if (flag(args, 'json')) console.log(JSON.stringify(info));
    else for (const [k, v] of Object.entries(info)) console.log(`${k.padEnd(22)}${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`);
    return 0;
  },
};
