/**
 * Worker-thread side of the teacher pool (distillTeacherPool.ts): loads the teacher once, then
 * answers each batch of texts with its logits, in order. Kernels run single-threaded here: the
 * pool's parallelism is one batch per worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { getBackend } from '../../engine/index.js';
import { loadTeacher } from './teacher.js';
import type { Quantize } from '../../models/bert/fastForward.js';

const port = parentPort;
if (!port) throw new Error('teacherWorker runs as a worker thread');
const { dir, task, quantize } = workerData as { dir: string; task?: string; quantize?: Quantize };
getBackend().setThreads(1);
const teacher = await loadTeacher(dir, { task, quantize }).catch((e: Error) => {
  port.postMessage({ type: 'error', message: e.message, userFacing: (e as { userFacing?: boolean }).userFacing === true });
  return undefined;
});
if (teacher) {
  port.postMessage({ type: 'ready', labels: teacher.labels, info: teacher.info });
  port.on('message', (m: { id: number; texts: string[] }) => {
    try {
      const logits = teacher.logits(m.texts);
      port.postMessage({ type: 'logits', id: m.id, logits }, [logits.buffer as ArrayBuffer]);
    } catch (e) {
      port.postMessage({ type: 'error', id: m.id, message: (e as Error).message, userFacing: (e as { userFacing?: boolean }).userFacing === true });
    }
  });
}
