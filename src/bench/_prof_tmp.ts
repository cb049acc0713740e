import { loadBackend, setBackend } from '../engine/backends.js';
import { profileLayerStep } from '../bench/profile.js';
import { DEFAULT_LAYER } from '../bench/engine.js';
const name = (process.argv[2] ?? 'native') as 'native';
const th = Number(process.argv[3] ?? 1);
const b = loadBackend(name); b.setThreads(th); setBackend(b);
const p = profileLayerStep(DEFAULT_LAYER, Number(process.argv[4] ?? 5));
console.log(`step ${p.step_ms.toFixed(1)} ms, kernels ${p.kernel_ms.toFixed(1)} ms, other ${(p.step_ms - p.kernel_ms).toFixed(1)}`);
for (const k of p.kernels) console.log(`${k.ms.toFixed(2).padStart(8)} ms ${String(k.calls).padStart(4)}x  ${k.kernel}`);
