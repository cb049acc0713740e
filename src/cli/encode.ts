/**
 * `slimtext encode --model DIR [--json]`: reads lines on stdin and prints, per line, the BERT
 * encoder's last hidden state (one row per token, [CLS] first). With --json each output line is
 * `{"ids": [...], "last_hidden_state": [[...], ...]}` (plus "pooler_output" with --pooled).
 */
import { streamLineBatches } from '../data/corpusStream.js';
import { type Command, UsageError, flag, num, req } from './command.js';
import { BertFeatureExtractor, type TextFeatures } from '../models/bert/featureExtraction.js';
import { getBackend } from '../engine/index.js';

export const command: Command = {
  name: 'encode',
  summary: 'Print BERT token vectors (last hidden state) for each line on stdin.',
  usage: '--model DIR [--json] [--pooled] [--batch-size N] [--max-length N] [--threads N] [--verbose] < lines.txt',
  options: {
    model: { type: 'string', help: 'Hugging Face BERT checkpoint folder (config.json, model.safetensors, vocab.txt or tokenizer.json)' },
    json: { type: 'boolean', help: 'one JSON line per input line: {"ids": [...], "last_hidden_state": [[...], ...]}' },
    pooled: { type: 'boolean', help: 'also print the pooler output (the checkpoint must have a pooler)' },
    'batch-size': { type: 'string', default: '32', help: 'lines encoded together' },
    'max-length': { type: 'string', help: 'truncate to N tokens, [CLS] and [SEP] included (default: the model maximum)' },
    threads: { type: 'string', help: 'threads the kernels may use (default: all cores)' },
    verbose: { type: 'boolean', help: 'describe the checkpoint on stderr (heads, extra tensors, conversions)' },
  },
  examples: [
    'encode --model ../shared/models/bert-l4-h128-mlm --json < lines.txt',
  ],
  async run(args) {
    const name = 'encode';
    const dir = req(args, name, 'model');
    const batchSize = positiveInt(num(args, name, 'batch-size') ?? 32, 'batch-size');
    const maxLength = num(args, name, 'max-length');
    const threads = num(args, name, 'threads');
    const json = flag(args, 'json');
    const pooled = flag(args, 'pooled');
    if (threads !== undefined) getBackend().setThreads(positiveInt(threads, 'threads'));
    const fx = await BertFeatureExtractor.load(dir, { pooled, ...(maxLength !== undefined ? { maxLength: positiveInt(maxLength, 'max-length') } : {}) });
    for (const l of fx.description) if (flag(args, 'verbose') || l.startsWith('warning:')) console.error(l);

    const flush = async (lines: string[]): Promise<void> => {
      const out = fx.encodeAll(lines, batchSize).map((f) => (json ? jsonLine(f) : textLines(f, fx))).join('');
      if (!process.stdout.write(out)) await new Promise((r) => process.stdout.once('drain', r));
    };
    // Lines are read in windows of several batches so that batches group similar lengths.
    const window = batchSize * WINDOW_BATCHES;
    let pending: string[] = [];
    for await (const batch of streamLineBatches(process.stdin, '<stdin>')) {
      for (const line of batch.lines) {
        pending.push(line);
        if (pending.length >= window) {
          await flush(pending);
          pending = [];
        }
      }
    }
    await flush(pending);
    return 0;
  },
};

/** Batches per window of lines sorted by length: bounds memory and latency for streamed input. */
const WINDOW_BATCHES = 16;

function positiveInt(v: number, option: string): number {
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`encode: --${option} must be a positive integer, got ${v}`);
  return v;
}

function jsonLine(f: TextFeatures): string {
  const o: Record<string, unknown> = { ids: f.ids, last_hidden_state: f.lastHiddenState.map((r) => Array.from(r)) };
  if (f.pooled) o.pooler_output = Array.from(f.pooled);
  return `${JSON.stringify(o)}\n`;
}

function textLines(f: TextFeatures, fx: BertFeatureExtractor): string {
  const H = fx.model.config.hiddenSize;
  const toks = f.ids.map((id) => fx.tokenizer.idToToken(id) ?? `#${id}`);
  const head = (v: Float32Array): string => `${Array.from(v.subarray(0, 6), (x) => x.toFixed(4)).join(' ')}${v.length > 6 ? ' ...' : ''}`;
  const lines = [`${f.ids.length} tokens x ${H}: ${toks.join(' ')}`, `  ${toks[0]}: ${head(f.lastHiddenState[0]!)}`];
  if (f.pooled) lines.push(`  pooled: ${head(f.pooled)}`);
  return `${lines.join('\n')}\n`;
}
