/**
 * What the trainer needs from a task: the module to optimise, a loss for a batch of training rows,
 * dev metrics, and the model to save. classifyTask.ts (single texts and pairs) and replyTask.ts
 * (bi-encoder) implement it; the trainer knows nothing else about them.
 */
import type { Module, Tensor } from '../../engine/index.js';
import type { TaskKind, TaskModel } from '../../models/taskModel.js';
import type { CacheStats } from '../prefixCache.js';

export type Metrics = Record<string, number>;

export interface TrainTask {
  readonly kind: TaskKind;
  /** Every parameter, trainable or frozen (the optimiser skips frozen ones). */
  readonly module: Module;
  /** Token lengths of the training examples, for length-bucketed batches. */
  readonly trainLengths: Int32Array;
  /** The dev metric that picks the best epoch (higher is better). */
  readonly selectMetric: string;
  /** Training mode (dropout on) with frozen parts kept in eval mode, or eval mode throughout. */
  setTraining(on: boolean): void;
  /** Mean loss over a batch of training rows, recorded on the tape. */
  loss(rows: Int32Array): Tensor;
  /** Metrics on the dev set (eval mode, no gradients). */
  evaluate(): Metrics;
  /** The model as it would be saved now. */
  taskModel(): TaskModel;
  /** Frozen-prefix cache figures, when a cache is in use. */
  cacheStats(): CacheStats | undefined;
  /** Re-fills the cache as the first `steps` training steps would have (after a resume). */
  warmCache?(batches: readonly Int32Array[]): void;
}
