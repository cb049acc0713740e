import { benchEngine } from '../bench/engine.js';
import { type Command, UsageError, flag, num, str } from './command.js';

export const command: Command = {
  name: 'bench engine',
  summary: 'Engine speed per backend. sgemm GFLOP/s (64x768x768, 512^3, 1024^3) and the time of one BERT encoder layer training step (B=32, T=64, hidden 256, 4 heads, intermediate 1024).',
  usage: '[--backend native|wasm] [--threads N] [--reps N] [--json]',
  options: {
    backend: { type: 'string', help: 'only this backend (default: every backend that loads)' },
    threads: { type: 'string', help: 'threads per backend (default: all cores)' },
    reps: { type: 'string', default: '5', help: 'timed repetitions per figure (median reported)' },
    json: { type: 'boolean', help: 'print JSON only' },
  },
  async run(args) {
    const b = str(args, 'backend');
    if (b !== undefined && b !== 'native' && b !== 'wasm') throw new UsageError(`bench engine: --backend must be native or wasm, got '${b}'`);
    const json = flag(args, 'json');
    const res = benchEngine({
      backends: b ? [b] : undefined,
      threads: num(args, 'bench engine', 'threads'),
      reps: num(args, 'bench engine', 'reps'),
      onLine: json ? undefined : (m) => console.error(m),
    });
    console.log(json ? JSON.stringify(res) : JSON.stringify(res, null, 2));
    return 0;
  },
};
