/**
 * The runtime's speed alone (no training): bundle load time and single-text latency p50/p99 in
 * Node for model folders exported as bundles, on the first test texts of a data set. One JSON
 * object on stdout:
 *
 *   flock /tmp/slimtext-bench.lock npx tsx bench/runtimeLatency.ts --models DIR|FILE.slim[,...]
 *        [--data ../shared/data/clinc150] [--texts 1000] [--dtype f16|f32] [--loads 20] [--rounds 3]
 *        [--runtimes src,dist/runtime/slimtext-runtime.js,OLD.js] [--no-wasm]
 *
 * `--runtimes` times the same bundles through several builds of the runtime in one process (side
 * by side: e.g. an earlier commit's bundled runtime against this one); `src` is src/runtime.
 * Every text is timed on its own (performance.now around one predict), after a warm-up pass over
 * all of them; p50/p99 pool `--rounds` passes. Speed: run it at normal priority under the lock.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { loadAnyModel } from '../src/models/anyModel.js';
import { encodeSlimBundle } from '../src/io/slimBundle.js';
import { readSplit } from '../src/train/tasks/taskData.js';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const models = arg('models', '/tmp/slimtext-bench-ship/clinc150/dan-prune20000-pq10').split(',');
const data = arg('data', '../shared/data/clinc150');
const nTexts = Number(arg('texts', '1000'));
const dtype = arg('dtype', 'f16') as 'f16' | 'f32';
const nLoads = Number(arg('loads', '20'));
const rounds = Number(arg('rounds', '3'));
const runtimes = arg('runtimes', 'src').split(',');
const wasm = !process.argv.includes('--no-wasm');
interface Rt {
  loadBundle(b: Uint8Array, o?: { wasm?: boolean }): Promise<{ kind: string; predict(t: string, o?: { topK?: number }): unknown }>;
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

const all = (await readSplit(data, 'test', 'test')).examples;
const step = Math.max(1, Math.floor(all.length / nTexts));
const texts = all.filter((_, i) => i % step === 0).slice(0, nTexts).map((e) => e.text);
const rows: Record<string, unknown>[] = [];
const load0 = loadavg()[0];
for (const m of models) {
  const bytes = m.endsWith('.slim') ? new Uint8Array(readFileSync(m)) : encodeSlimBundle(await loadAnyModel(m), { dtype });
  for (const r of runtimes) {
    const rt = (await import(r === 'src' ? '../src/runtime/index.js' : pathToFileURL(resolve(r)).href)) as Rt;
    const loads: number[] = [];
    for (let i = 0; i < nLoads; i++) {
      const t0 = performance.now();
      await rt.loadBundle(bytes, { wasm });
      loads.push(performance.now() - t0);
    }
    const model = await rt.loadBundle(bytes, { wasm });
    for (const t of texts) model.predict(t);
    const timed = (topK: number | undefined) => {
      const us: number[] = [];
      for (let k = 0; k < rounds; k++) {
        for (const t of texts) {
          const t0 = performance.now();
          model.predict(t, { topK });
          us.push((performance.now() - t0) * 1000);
        }
      }
      return us;
    };
    const all = timed(undefined), top1 = timed(1);
    const t0 = performance.now();
    for (const t of texts) model.predict(t);
    const throughputUs = ((performance.now() - t0) * 1000) / texts.length;
    rows.push({
      model: m, runtime: r, wasm, kind: model.kind, dtype, bytes: bytes.length, load_ms_median: round(pct(loads, 50)), load_ms_first: round(loads[0]!),
      p50_us: round(pct(all, 50), 1), p99_us: round(pct(all, 99), 1), top1_p50_us: round(pct(top1, 50), 1), top1_p99_us: round(pct(top1, 99), 1),
      mean_us_back_to_back: round(throughputUs, 1), texts: texts.length,
    });
    console.error(JSON.stringify(rows.at(-1)));
  }
}
console.log(JSON.stringify({ date: new Date().toISOString(), machine: `${cpus().length}-core ${cpus()[0]?.model ?? ''}, shared with other work`, loadavg_1min_before: round(load0), loadavg_1min_after: round(loadavg()[0]), node: process.version, rows }, null, 1));
