/**
 * Worker-thread side of an n-gram vocabulary build (ngramBuild.ts): one NgramCounter, fed chunks
 * of sentences. Every message gets exactly one reply, in order, so the caller can match replies
 * to requests first-in first-out.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { NgramCounter, type CountOptions } from './ngramCount.js';

export type WorkerRequest =
  | { type: 'count'; text: string }
  | { type: 'result' }
  | { type: 'candidates'; k1: Int32Array; k2: Int32Array }
  | { type: 'recount'; text: string }
  | { type: 'recountResult'; only?: Int32Array };

const port = parentPort;
if (!port) throw new Error('ngramWorker.ts runs as a worker thread');
const counter = new NgramCounter(workerData as CountOptions);

port.on('message', (m: WorkerRequest) => {
  switch (m.type) {
    case 'count':
      counter.count(m.text);
      port.postMessage({ type: 'done' });
      break;
    case 'recount':
      counter.recount(m.text);
      port.postMessage({ type: 'done' });
      break;
    case 'result': {
      const r = counter.result();
      port.postMessage({ type: 'result', ...r, lines: counter.lines, words: counter.words }, [r.slots.buffer as ArrayBuffer]);
      break;
    }
    case 'candidates':
      counter.setCandidates(m.k1, m.k2);
      port.postMessage({ type: 'done' });
      break;
    case 'recountResult': {
      const r = counter.recountResult(m.only);
      port.postMessage({ type: 'recountResult', ...r }, [r.exact.buffer as ArrayBuffer, r.idx.buffer as ArrayBuffer]);
      break;
    }
  }
});
