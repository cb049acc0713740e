/**
 * Benchmark: the one line reader (src/data/corpusStream.ts streamLineBatches, UTF-8 checked) that
 * `predict` and `encode` now use for stdin, side by side with node:readline, which they used
 * before, over the same bytes in one run. Prints one JSON object.
 *
 *   node dist/bench/lineReader.js [--lines N] [--reps R]
 */
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { streamLineBatches } from '../src/data/corpusStream.js';
import { median } from '../src/bench/stats.js';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '500000' }, reps: { type: 'string', default: '5' } } });
const N = Number(values.lines);
const words = ['what', 'is', 'the', 'weather', 'like', 'in', 'paris', 'tomorrow', 'café', 'book', 'a', 'table', 'for', 'two', '?'];
const lines: string[] = [];
for (let i = 0; i < N; i++) lines.push(Array.from({ length: 4 + (i % 12) }, (_, j) => words[(i * 7 + j * 3) % words.length]).join(' '));
const bytes = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
// Chunks of 64 KiB, as a pipe delivers stdin.
const source = () => Readable.from((function* () { for (let o = 0; o < bytes.length; o += 1 << 16) yield bytes.subarray(o, o + (1 << 16)); })());

async function time(fn: () => Promise<number>): Promise<{ ms: number; lines: number }> {
  const t = performance.now();
  const n = await fn();
  return { ms: performance.now() - t, lines: n };
}
const readline = async () => {
  let n = 0;
  for await (const _ of createInterface({ input: source(), crlfDelay: Infinity })) n++;
  return n;
};
const shared = async () => {
  let n = 0;
  for await (const b of streamLineBatches(source(), '<bench>')) n += b.lines.length;
  return n;
};
const r = { readline: [] as number[], shared: [] as number[] };
for (let k = 0; k < Number(values.reps); k++) {
  for (const [name, fn] of [['readline', readline], ['shared', shared]] as const) {
    const { ms, lines: n } = await time(fn);
    if (n !== N) throw new Error(`${name} read ${n} lines, expected ${N}`);
    r[name].push(ms);
  }
}
const mb = bytes.length / 2 ** 20;
console.log(JSON.stringify({
  lines: N, mib: Math.round(mb * 10) / 10,
  readline_ms: Math.round(median(r.readline)), shared_reader_ms: Math.round(median(r.shared)),
  shared_vs_readline: Math.round((median(r.readline) / median(r.shared)) * 100) / 100,
}));
