/** Messages between the server's main thread and its model workers (workerPool.ts, worker.ts). */
import type { Input, ModelInfo, TaskResult } from './servedModel.js';

/** A loaded model version inside a worker is named `NAME@VERSION`. */
export type ModelKey = string;

export type ToWorker =
  | { type: 'load'; id: number; key: ModelKey; dir: string; maxTopK: number }
  | { type: 'drop'; key: ModelKey }
  | { type: 'batch'; id: number; key: ModelKey; inputs: Input[]; tasks: string[] };

export type FromWorker =
  | { type: 'loaded'; id: number; info: ModelInfo }
  | { type: 'done'; id: number; results: Record<string, TaskResult>[]; ms: number }
  | { type: 'failed'; id: number; message: string; userFacing: boolean };
