import { benchEngine } from '../bench/engine.js';
import { type Command, UsageError, flag, str, whole } from './command.js';

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
  examples: [
    'bench engine',
    'bench engine --backend wasm --threads 1 --json',
  ],
  async run(args) {
    const b = str(args, 'backend');
    if (b !== undefined && b !== 'native' && b !== 'wasm') throw new UsageError(`bench engine: --backend must be native or wasm, got '${b}'`);
    const json = flag(args, 'json');
    const res = benchEngine({
      backends: b ? [b] : undefined,
      threads: whole(args, 'bench engine', 'threads', 1),
      reps: whole(args, 'bench engine', 'reps', 1),
      onLine: json ? undefined : (m) => console.error(m),
    });
    console.log(json ? JSON.stringify(res) : humanLines(res).join('\n'));
    return 0;
  },
};

/** Without --json: one line per figure, `path: value`, from the same object --json prints. */
function humanLines(o: unknown, prefix = ''): string[] {
  if (o === null || typeof o !== 'object') return [`${prefix}: ${typeof o === 'number' && !Number.isInteger(o) ? o.toFixed(3) : String(o)}`];
  return Object.entries(o as Record<string, unknown>).flatMap(([k, v]) => humanLines(v, prefix ? `${prefix} ${k}` : k));
}
