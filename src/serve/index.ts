/** The serving layer's public surface: start a server over slimtext models, and its options. */
export { startServer, type RunningServer, type StartOptions } from './server.js';
export { DEFAULT_LIMITS, defaultServeOptions, type Limits, type ModelSpec, type ServeOptions } from './options.js';
export { loadServedModel, type Input, type ModelInfo, type ServedModel, type TaskInfo, type TaskResult } from './servedModel.js';
export { WorkerPool } from './workerPool.js';
