/**
 * End-to-end inference speed, raw text in, label out, on one core (kernels limited to one thread
 * for the measurement): a transformer teacher in batches, a DAN student in batches and one request
 * at a time. Texts are cycled until `minSeconds` have passed, after one untimed warm-up pass.
 */
import { getBackend } from '../engine/index.js';
import type { Dan } from '../models/dan.js';
import { argmaxRows } from '../models/inference.js';
import type { Teacher } from '../train/distill/teacher.js';

export interface Throughput {
  textsPerSecond: number;
  texts: number;
  seconds: number;
}

export interface ThroughputOptions {
  /** Keep going at least this long (default 2 s). */
  minSeconds?: number;
  /** Texts per call in batched mode (default 64). */
  batch?: number;
}

/** texts/s of `run` over batches of `texts`, one kernel thread. */
export function measureThroughput(texts: readonly string[], run: (batch: readonly string[]) => void, opts: ThroughputOptions = {}): Throughput {
  if (texts.length === 0) return { textsPerSecond: 0, texts: 0, seconds: 0 };
  const be = getBackend();
  const threads = be.threads();
  be.setThreads(1);
  try {
    const B = opts.batch ?? 64;
    const minMs = (opts.minSeconds ?? 2) * 1000;
    run(texts.slice(0, Math.min(B, texts.length)));
    const t0 = performance.now();
    let n = 0;
    let i = 0;
    while (performance.now() - t0 < minMs || n < texts.length) {
      const batch = texts.slice(i, Math.min(texts.length, i + B));
      run(batch);
      n += batch.length;
      i = i + B >= texts.length ? 0 : i + B;
      if (n >= texts.length && performance.now() - t0 >= minMs) break;
    }
    const seconds = (performance.now() - t0) / 1000;
    return { textsPerSecond: Math.round(n / seconds), texts: n, seconds: Math.round(seconds * 1000) / 1000 };
  } finally {
    be.setThreads(threads);
  }
}

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
