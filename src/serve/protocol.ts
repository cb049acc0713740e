/** Messages between the server's main thread and its model workers (workerPool.ts, worker.ts). */
import type { SharedWeights, SharingStats } from '../engine/index.js';
import type { Input, ModelInfo, TaskResult } from './servedModel.js';

/** A loaded model version inside a worker is named `NAME@VERSION`. */
export type ModelKey = string;

export type ToWorker =
  /**
   * share: load inside a weight-sharing scope; `from`: the shared weights another worker's load of
   * the same version made (absent: this worker makes them and sends them back).
   */
  | { type: 'load'; id: number; key: ModelKey; dir: string; maxTopK: number; share: boolean; from?: SharedWeights }
  | { type: 'drop'; key: ModelKey }
  | { type: 'batch'; id: number; key: ModelKey; inputs: Input[]; tasks: string[] };

export type FromWorker =
  | { type: 'loaded'; id: number; info: ModelInfo; weights?: SharedWeights; stats?: SharingStats }
  | { type: 'done'; id: number; results: Record<string, TaskResult>[]; ms: number }
  | { type: 'failed'; id: number; message: string; userFacing: boolean };
