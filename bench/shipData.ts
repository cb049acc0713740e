/**
 * What bench/ship.ts and bench/shipSweep.ts score bundles on: the two sets' test examples, every
 * k-th one (test files are grouped by label: a prefix would miss most labels), and accuracy through
 * the runtime, as a browser would run the bundle.
 */
import { readSplit } from '../src/train/tasks/taskData.js';
import { loadBundle, singleTask } from '../src/runtime/index.js';

export const SHIP_SETS: Record<string, string> = { clinc150: '../shared/data/clinc150', sst2: '../shared/data/sst2' };

/** Every k-th test example of the set at `path`, at most `max` of them. */
export async function testSample(path: string, max: number): Promise<{ text: string; label?: string }[]> {
  const all = (await readSplit(path, 'test', 'test')).examples;
  const step = Math.max(1, Math.ceil(all.length / max));
  return all.filter((_, i) => i % step === 0);
}

/** Top-1 accuracy of the bundle `bytes` on `examples`, through slimtext/runtime. */
export async function runtimeAccuracy(bytes: Uint8Array, examples: readonly { text: string; label?: string }[]): Promise<number> {
  const m = singleTask(await loadBundle(bytes));
  let ok = 0;
  for (const e of examples) if (m.predict(e.text, { topK: 1 })[0]!.label === e.label) ok++;
  return ok / examples.length;
}
