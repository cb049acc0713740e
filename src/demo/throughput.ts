/**
 * End-to-end inference speed of the demo's two models (eval/throughput.ts measures): a transformer
 * teacher in batches, a DAN student in batches and one request at a time.
 */
import type { Dan } from '../models/dan.js';
import { argmaxRows } from '../models/inference.js';
import type { Teacher } from '../train/distill/teacher.js';
import { measureThroughput, type Throughput, type ThroughputOptions } from '../eval/throughput.js';

export { measureThroughput, type Throughput, type ThroughputOptions };

/** A teacher in batches: tokenise, forward, arg-max. */
export function teacherThroughput(teacher: Teacher, texts: readonly string[], opts: ThroughputOptions = {}): Throughput {
  const C = teacher.labels.length;
  return measureThroughput(texts, (b) => void argmaxRows(teacher.logits(b), C), opts);
}

/** A DAN student through its allocation-free predictor, in batches or one text per call. */
export function studentThroughput(dan: Dan, texts: readonly string[], mode: 'batch' | 'single', opts: ThroughputOptions = {}): Throughput {
  const p = dan.predictor();
  const out = new Int32Array(opts.batch ?? 64);
  if (mode === 'batch') return measureThroughput(texts, (b) => void p.labelsBatch(b, out), opts);
  return measureThroughput(texts, (b) => {
    for (const t of b) p.labelOne(t);
  }, opts);
}
