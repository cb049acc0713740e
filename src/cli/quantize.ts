/** `--quantize none|int8`, shared by predict, eval and label. */
import { type ParsedArgs, UsageError, str } from './command.js';
import type { Quantize } from '../models/bert/fastForward.js';

export const QUANTIZE_OPTION = {
  quantize: {
    type: 'string' as const,
    default: 'none',
    help: "int8: dynamic int8 quantisation of the encoder's linear layers at load (BERT models; a folder saved by compress --method int8-linear is int8 already)",
  },
};

export function quantizeOption(args: ParsedArgs, cmdName: string): Quantize {
  const q = str(args, 'quantize') ?? 'none';
  if (q !== 'none' && q !== 'int8') throw new UsageError(`${cmdName}: --quantize must be none or int8, got '${q}'`);
  return q;
}
