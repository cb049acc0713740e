/**
 * Engine benchmark, side by side in one run: `slimtext bench engine` for every backend, then the
 * same encoder-layer training step in PyTorch (Debian python3-torch, same thread count).
 * Prints JSON with the ratio slimtext / PyTorch. Usage: npx tsx bench/engine.ts [--threads 2]
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { benchEngine, DEFAULT_LAYER } from '../src/bench/engine.js';
import { repoRoot } from './root.js';

const threads = Number(process.argv[process.argv.indexOf('--threads') + 1] || 2);
const engine = benchEngine({ threads, reps: 7, onLine: (m) => console.error(m) });
const py = spawnSync('/usr/bin/python3', [
  join(repoRoot, 'bench', 'torch_layer_step.py'), '--threads', String(threads), '--steps', '20',
  '--batch', String(DEFAULT_LAYER.batch), '--seq', String(DEFAULT_LAYER.seq), '--hidden', String(DEFAULT_LAYER.hidden),
  '--heads', String(DEFAULT_LAYER.heads), '--inter', String(DEFAULT_LAYER.intermediate),
], { encoding: 'utf8' });
let torch: { layer_step_ms: number; framework: string } | { error: string };
try {
  torch = JSON.parse(py.stdout);
} catch {
  torch = { error: `python3-torch reference failed: ${py.stderr.trim().split('\n').pop() ?? 'no output'}` };
}
const ratios: Record<string, number> = {};
if ('layer_step_ms' in torch) {
  for (const [name, b] of Object.entries(engine.backends)) ratios[name] = Math.round((b!.layer_step_ms / torch.layer_step_ms) * 100) / 100;
}
console.log(JSON.stringify({ date: new Date().toISOString(), threads, ...engine, pytorch: torch, layer_step_ratio_vs_pytorch: ratios }, null, 2));
