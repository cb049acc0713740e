/**
 * The server's Prometheus metrics (prom-client), on a registry of its own so two servers in one
 * process (tests) do not share counters. Names follow Prometheus conventions: seconds, _total.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BatchObserver } from './batcher.js';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class ServerMetrics implements BatchObserver {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'slimtext_http_requests_total', help: 'HTTP requests answered, by route, method and status code', labelNames: ['route', 'method', 'status'], registers: [this.registry] });
  readonly latency = new Histogram({ name: 'slimtext_http_request_duration_seconds', help: 'Time from request to response, by route', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly texts = new Counter({ name: 'slimtext_predict_texts_total', help: 'Texts predicted, by model', labelNames: ['model'], registers: [this.registry] });
  readonly rejected = new Counter({ name: 'slimtext_predict_rejected_total', help: 'Predict requests refused, by model and reason (queue_full, limit, invalid)', labelNames: ['model', 'reason'], registers: [this.registry] });
  readonly batchSize = new Histogram({ name: 'slimtext_batch_size', help: 'Texts per batch a worker ran, by model', labelNames: ['model'], buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers: [this.registry] });
  readonly modelTime = new Histogram({ name: 'slimtext_batch_model_seconds', help: 'Time a worker spent in the model per batch, by model', labelNames: ['model'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly queueWait = new Histogram({ name: 'slimtext_queue_wait_seconds', help: 'Time a text waited in the queue before a worker took it, by model', labelNames: ['model'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly queue = new Gauge({ name: 'slimtext_queue_depth', help: 'Texts waiting for a worker', registers: [this.registry] });
  readonly busyWorkers = new Gauge({ name: 'slimtext_workers_busy', help: 'Model workers running a job', registers: [this.registry] });
  readonly workers = new Gauge({ name: 'slimtext_workers', help: 'Model worker threads', registers: [this.registry] });
  readonly modelVersion = new Gauge({ name: 'slimtext_model_version', help: 'Version (load count) of each served model', labelNames: ['model'], registers: [this.registry] });
  readonly reloads = new Counter({ name: 'slimtext_model_reloads_total', help: 'Model reloads, by model and result (ok, failed)', labelNames: ['model', 'result'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'slimtext_' });
  }

  batch(model: string, size: number, modelMs: number, waitsMs: readonly number[]): void {
    this.batchSize.observe({ model }, size);
    this.modelTime.observe({ model }, modelMs / 1000);
    this.texts.inc({ model }, size);
    for (const w of waitsMs) this.queueWait.observe({ model }, w / 1000);
  }

  queueDepth(texts: number): void {
    this.queue.set(texts);
  }
}
