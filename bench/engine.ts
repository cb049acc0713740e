/**
 * Engine benchmark, side by side in one run: `slimtext bench engine` for every backend, then the
 * same encoder-layer training step in PyTorch (Debian python3-torch, same thread count).
 * Prints JSON with the ratio slimtext / PyTorch.
 *
 *   npx tsx bench/engine.ts [--threads 2] [--rounds 3] [--profile]
 *
 * --rounds N: after the full benchmark, N more rounds of (native layer step, PyTorch layer step)
 *   back to back; on a machine shared with other work the median over rounds is the figure to
 *   trust (layer_step_rounds).
 * --profile: adds the native backend's per-kernel time of one step (profile).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchEngine, DEFAULT_LAYER } from '../src/bench/engine.js';
import { layerStepMs } from '../src/bench/layerStep.js';
import { profileLayerStep } from '../src/bench/profile.js';
import { median } from '../src/bench/stats.js';
import { availableBackends, loadBackend, setBackend } from '../src/engine/index.js';
import { repoRoot } from './root.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '0' },
    profile: { type: 'boolean', default: false },
  },
});
const threads = Number(values.threads);
const rounds = Number(values.rounds);

interface TorchResult {
  layer_step_ms: number;
  layer_step_ms_min: number;
  cpu_ms_per_step: number;
  framework: string;
}

function torchStep(steps: number): TorchResult | { error: string } {
  const L = DEFAULT_LAYER;
  const py = spawnSync('/usr/bin/python3', [
    join(repoRoot, 'bench', 'torch_layer_step.py'), '--threads', String(threads), '--steps', String(steps),
    '--batch', String(L.batch), '--seq', String(L.seq), '--hidden', String(L.hidden),
    '--heads', String(L.heads), '--inter', String(L.intermediate),
  ], { encoding: 'utf8' });
  try {
    return JSON.parse(py.stdout) as TorchResult;
  } catch {
    return { error: `python3-torch reference failed: ${py.stderr.trim().split('\n').pop() ?? 'no output'}` };
  }
}

const engine = benchEngine({ threads, reps: 7, onLine: (m) => console.error(m) });
const torch = torchStep(20);
const ratio = (ms: number, t: number) => Math.round((ms / t) * 100) / 100;
const ratios: Record<string, number> = {};
if ('layer_step_ms' in torch) {
  for (const [name, b] of Object.entries(engine.backends)) ratios[name] = ratio(b!.layer_step_ms, torch.layer_step_ms);
}

const extra: Record<string, unknown> = {};
if (rounds > 0 && availableBackends().includes('native')) {
  const native = loadBackend('native');
  native.setThreads(threads);
  setBackend(native);
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    ours.push(layerStepMs(DEFAULT_LAYER, 10));
    const t = torchStep(10);
    if ('layer_step_ms' in t) theirs.push(t.layer_step_ms);
    console.error(`round ${r + 1}: native ${ours.at(-1)!.toFixed(1)} ms, pytorch ${theirs.at(-1)?.toFixed(1) ?? '-'} ms`);
  }
  extra.layer_step_rounds = {
    native_ms: ours.map((x) => Math.round(x * 10) / 10),
    pytorch_ms: theirs.map((x) => Math.round(x * 10) / 10),
    native_median_ms: Math.round(median(ours) * 10) / 10,
    ...(theirs.length ? { pytorch_median_ms: Math.round(median(theirs) * 10) / 10, ratio: ratio(median(ours), median(theirs)) } : {}),
  };
}
if (values.profile && availableBackends().includes('native')) {
  const native = loadBackend('native');
  native.setThreads(threads);
  setBackend(native);
  const p = profileLayerStep(DEFAULT_LAYER, 10);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  extra.profile = {
    step_ms: r2(p.step_ms), step_cpu_ms: r2(p.step_cpu_ms), kernel_ms: r2(p.kernel_ms), kernel_cpu_ms: r2(p.kernel_cpu_ms),
    kernels: p.kernels.map((k) => ({ kernel: k.kernel, calls: k.calls, ms: r2(k.ms), cpu_ms: r2(k.cpu_ms) })),
  };
}

console.log(JSON.stringify({
  date: new Date().toISOString(), threads, ...engine, pytorch: torch, layer_step_ratio_vs_pytorch: ratios, ...extra,
}, null, 2));
