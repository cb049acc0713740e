// placeholder command: replaced by the work that owns it
import type { Command } from './command.js';
export const command: Command = {
  name: 'tokenize',
  summary: 'not implemented yet',
  usage: '',
  options: {},
  async run() { console.error('not implemented yet'); return 1; },
};
