/**
 * Distributed teacher labelling, coordinator side (`slimtext label --queue redis://HOST:PORT`).
 *
 * The coordinator is in-process labelling (teacherLabels.ts) with a different TeacherRunner: it
 * streams the corpus, de-duplicates by text fingerprint and forms shards exactly as in-process
 * labelling forms batches (so the rows, their order and, batch for batch, the logits are the same),
 * then instead of calling a teacher it puts each shard on a BullMQ queue in Redis and waits for a
 * worker (queue/worker.ts, `slimtext worker`) to label it. Finished shards are merged in corpus
 * order into the one logits file by teacherLabels.ts, which commits each row once: a shard that
 * ran twice (a stalled job redone, a duplicate delivery, a result found after a restart) is still
 * merged once, because merging follows the corpus, not the deliveries.
 *
 * Why the logits come back through Redis (the job's return value) and not a shared folder: workers
 * are meant to run anywhere, and Redis is the one thing every worker can already reach; a shared
 * folder would add a second thing to set up (NFS, permissions) and a second failure mode. The
 * payload is small (rows x classes floats: a 512-text shard of a 4-class teacher is 8 kB), and the
 * coordinator deletes each job once it has read it, so Redis holds only the shards in flight
 * (`window`). The texts travel in the job for the same reason: a worker needs no corpus files.
 *
 * Failure handling is BullMQ's, configured here: each shard job has `attempts` tries with
 * exponential backoff; a worker killed mid-shard stops renewing its lock, and another worker's
 * stalled-job check puts the shard back after `lockMs`. On top of that the coordinator checks each
 * result (teacher fingerprint, shard hash, shape, CRC-32, finite values: shard.ts) and re-queues a
 * rejected one under the next generation of its id. A restarted coordinator (`--resume`) resumes the
 * logits file after its last commit and finds shards that finished meanwhile under the same ids.
 */
import { hostname } from 'node:os';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { SlimtextError } from '../../../errors.js';
import type { TeacherRunner } from '../teacherLabels.js';
import type { TeacherId } from '../teacherId.js';
import { checkRedis, connectionOf, parseRedisUrl } from './redis.js';
import { decodeResult, shardHash, shardJobId, type ShardJob } from './shard.js';

export interface QueueLabelOptions {
  /** redis://HOST:PORT */
  url: string;
  /** BullMQ queue name (workers must use the same). */
  queueName?: string;
  teacher: TeacherId;
  /** Texts per teacher call inside a shard (in-process labelling's batch size). */
  teacherBatch?: number;
  /** Shards in flight at once (queued or being labelled). */
  window?: number;
  /** Tries per shard before the run fails. */
  attempts?: number;
  /** First retry delay (doubles each try). */
  backoffMs?: number;
  /** Rejected results per shard before the run fails. */
  maxRejects?: number;
  /** Hears each rejected result (the CLI prints it). */
  onReject?: (reason: string) => void;
}

export interface WorkerShare {
  shards: number;
  texts: number;
  /** Teacher time on that worker. */
  ms: number;
}

export interface QueueStats {
  shards: number;
  /** Shards already finished when first looked at (e.g. labelled while the coordinator was down). */
  reused: number;
  rejected: number;
  /** Per worker (host:pid): what it labelled. */
  workers: Record<string, WorkerShare>;
  /** Sum over shards of (time from enqueue to result) minus the worker's teacher time: queueing behind other shards included. */
  overheadMs: number;
}

export const DEFAULT_QUEUE = 'slimtext-label';
export const QUEUE_DEFAULTS = { window: 16, attempts: 5, backoffMs: 1000, maxRejects: 3, teacherBatch: 64 } as const;

/** Redis key naming the teacher a coordinator labels with, so a wrong worker can refuse at start. */
export const teacherKey = (queueName: string) => `slimtext:${queueName}:teacher`;

export async function queueRunner(o: QueueLabelOptions): Promise<TeacherRunner & { stats: QueueStats }> {
  const target = parseRedisUrl(o.url);
  await checkRedis(target);
  const name = o.queueName ?? DEFAULT_QUEUE;
  const attempts = o.attempts ?? QUEUE_DEFAULTS.attempts;
  const backoffMs = o.backoffMs ?? QUEUE_DEFAULTS.backoffMs;
  const maxRejects = o.maxRejects ?? QUEUE_DEFAULTS.maxRejects;
  const batch = o.teacherBatch ?? QUEUE_DEFAULTS.teacherBatch;
  const C = o.teacher.labels.length;
  const connection = connectionOf(target);
  const queue = new Queue<ShardJob>(name, { connection });
  const events = new QueueEvents(name, { connection });
  const meta = new Redis(connection);
  try {
    await events.waitUntilReady();
    await meta.set(teacherKey(name), JSON.stringify({ fingerprint: o.teacher.fingerprint, labels: o.teacher.labels, coordinator: `${hostname()}:${process.pid}` }));
  } catch (e) {
    await Promise.allSettled([events.close(), queue.close()]);
    meta.disconnect();
    throw e;
  }
  const stats: QueueStats = { shards: 0, reused: 0, rejected: 0, workers: {}, overheadMs: 0 };

  /** The finished job's return value (retrying a job a previous run left failed). */
  const finished = async (job: ShardJob, id: string): Promise<{ value: unknown; reused: boolean }> => {
    await queue.add('shard', job, { jobId: id, attempts, backoff: { type: 'exponential', delay: backoffMs }, removeOnFail: false, removeOnComplete: false });
    const j = (await queue.getJob(id)) as Job<ShardJob> | undefined;
    if (!j) throw new SlimtextError(`shard job ${id} vanished from Redis at ${o.url} (was the queue obliterated?)`);
    const state = await j.getState();
    if (state === 'failed') await j.retry('failed');
    if (state !== 'completed') {
      try {
        await j.waitUntilFinished(events);
      } catch (e) {
        throw new SlimtextError(`shard ${id} failed after ${attempts} tries: ${(e as Error).message}`);
      }
    }
    // The result is read back from Redis now: the copy fetched above may predate the job's end.
    return { value: (await queue.getJob(id))?.returnvalue, reused: state === 'completed' };
  };

  return {
    labels: o.teacher.labels,
    info: { ...o.teacher.info, queue: o.url, queue_name: name },
    concurrency: o.window ?? QUEUE_DEFAULTS.window,
    stats,
    async run(texts) {
      const job: ShardJob = { teacher: o.teacher.fingerprint, batch, texts: [...texts], shard: shardHash(texts) };
      const t0 = performance.now();
      for (let gen = 0; ; gen++) {
        const id = shardJobId(job, gen);
        const { value, reused } = await finished(job, id);
        const got = decodeResult(value, job, C);
        // Read or rejected, the job has done its work: remove it so Redis holds only what is in flight.
        await queue.remove(id).catch(() => undefined);
        if ('logits' in got) {
          const r = value as { worker: string; ms: number };
          const w = (stats.workers[r.worker] ??= { shards: 0, texts: 0, ms: 0 });
          w.shards++;
          w.texts += texts.length;
          w.ms += r.ms;
          stats.shards++;
          if (reused) stats.reused++;
          else stats.overheadMs += Math.max(0, performance.now() - t0 - r.ms);
          return got.logits;
        }
        stats.rejected++;
        o.onReject?.(`shard ${id}: result rejected (${got.reject}); re-queued`);
        if (gen + 1 >= maxRejects) throw new SlimtextError(`shard ${id}: ${maxRejects} results rejected in a row, last: ${got.reject}`);
      }
    },
    async close() {
      await Promise.allSettled([events.close(), queue.close()]);
      meta.disconnect();
    },
  };
}
