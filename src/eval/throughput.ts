/**
 * End-to-end inference speed, raw text in, prediction out, on one core: the kernels are limited to
 * one thread for the measurement. Texts are cycled until `minSeconds` have passed (and every text
 * has run once), after one untimed warm-up call. Shared by the demo, the distillation bench and
 * `slimtext report` (single-core latency: batches of one).
 */
import { getBackend } from '../engine/index.js';

export interface Throughput {
  textsPerSecond: number;
  texts: number;
  seconds: number;
}

export interface ThroughputOptions {
  /** Keep going at least this long (default 2 s). */
  minSeconds?: number;
  /** Texts per call (default 64; 1 measures one request at a time). */
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
