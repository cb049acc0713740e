/**
 * Shared pieces of the distillation tests: a synthetic teacher whose logits are a fixed linear
 * function of the words of a text (so a DAN can learn it exactly), and synthetic corpora.
 */
import { writeFileSync } from 'node:fs';
import { Rng } from '../../../src/engine/index.js';
import type { TeacherRunner } from '../../../src/train/distill/teacherLabels.js';
import type { Teacher } from '../../../src/train/distill/teacher.js';

export const TEACHER_LABELS = ['alpha', 'beta', 'gamma'];
const VOCAB = Array.from({ length: 60 }, (_, i) => `w${i}`);

/** Per-word logit contributions: a few words decide, the rest add noise. */
function wordWeights(): Map<string, number[]> {
  const rng = new Rng(7);
  const m = new Map<string, number[]>();
  for (const w of VOCAB) m.set(w, [0, 0, 0].map(() => rng.normal() * 0.3));
  m.set('w1', [3, 0, 0]);
  m.set('w2', [0, 3, 0]);
  m.set('w3', [0, 0, 3]);
  return m;
}

const WEIGHTS = wordWeights();

export function teacherLogits(texts: readonly string[]): Float32Array {
  const out = new Float32Array(texts.length * 3);
  texts.forEach((t, i) => {
    for (const w of t.split(' ')) {
      const v = WEIGHTS.get(w);
      if (v) for (let c = 0; c < 3; c++) out[i * 3 + c]! += v[c]!;
    }
  });
  return out;
}

export const syntheticTeacher: Teacher = { labels: TEACHER_LABELS, logits: teacherLogits, info: { kind: 'synthetic' } };

/** A runner that counts the texts it labels and can be slowed down. */
export function countingRunner(delayMs = 0): TeacherRunner & { calls: number; texts: number } {
  const r = {
    labels: TEACHER_LABELS,
    info: { kind: 'synthetic' },
    concurrency: 1,
    calls: 0,
    texts: 0,
    async run(texts: readonly string[]) {
      r.calls++;
      r.texts += texts.length;
      if (delayMs > 0) await new Promise((res) => setTimeout(res, delayMs));
      return teacherLogits(texts);
    },
    async close() {},
  };
  return r;
}

/** n random sentences of the synthetic vocabulary (seeded). */
export function sentences(n: number, seed: number): string[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: 3 + rng.int(8) }, () => VOCAB[rng.int(VOCAB.length)]!).join(' '));
}

/** Writes a corpus file with every 5th sentence repeated later (for de-duplication). */
export function writeCorpus(path: string, n: number, seed = 1): string[] {
  const s = sentences(n, seed);
  const lines: string[] = [];
  s.forEach((x, i) => {
    lines.push(x);
    if (i % 5 === 4) lines.push(s[i - 2]!);
  });
  writeFileSync(path, lines.join('\n') + '\n');
  return lines;
}
