/**
 * Child processes of the queue tests (killed with SIGKILL by the parent): a worker that announces
 * each shard and then labels it slowly, or a coordinator labelling a corpus through the queue.
 * Does nothing unless started with the marker argument (the test run loads every file under dist/test/).
 */
import { startWorker } from '../../../../src/train/distill/queue/worker.js';
import { queueRunner } from '../../../../src/train/distill/queue/coordinator.js';
import { labelCorpus } from '../../../../src/train/distill/teacherLabels.js';
import { SYNTH_ID, slowTeacher } from './synth.js';

const [marker, mode, url, queueName, corpus, out] = process.argv.slice(2);
if (marker === '--slimtext-queue-child' && url && queueName) {
  if (mode === 'worker') {
    const w = await startWorker({
      url,
      queueName,
      teacher: slowTeacher(200),
      fingerprint: SYNTH_ID.fingerprint,
      lockMs: 1000,
      onStart: (id) => void process.stdout.write(`start ${id}\n`),
    });
    await w.done;
  } else if (mode === 'coordinator' && corpus && out) {
    const runner = await queueRunner({ url, queueName, teacher: SYNTH_ID, teacherBatch: 4, window: 2 });
    await labelCorpus({ teacher: runner, corpus: [corpus], out, batchSize: 8, chunkRows: 8, onProgress: (p) => void process.stdout.write(`rows ${p.rows}\n`) });
  }
}
