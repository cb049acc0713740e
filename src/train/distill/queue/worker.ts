/**
 * Distributed teacher labelling, worker side (`slimtext worker --queue redis://HOST:PORT`): loads
 * the teacher once, then takes shard jobs off the BullMQ queue and hands back their logits as the
 * job's result (see coordinator.ts for why through Redis). It labels a shard in slices of the
 * coordinator's teacher batch size, as in-process labelling does, so the logits are the same, and
 * yields to the event loop between slices so BullMQ can renew the job's lock on a long shard.
 *
 * A worker whose teacher is not the coordinator's refuses: at start, against the fingerprint the
 * coordinator published in Redis, and again on every job (the job then goes back for a retry by
 * another worker, and this one stops).
 */
import { hostname } from 'node:os';
import { setImmediate as yieldNow } from 'node:timers/promises';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { SlimtextError } from '../../../errors.js';
import type { Teacher } from '../teacher.js';
import { checkRedis, connectionOf, parseRedisUrl } from './redis.js';
import { DEFAULT_QUEUE, teacherKey } from './coordinator.js';
import { encodeResult, type ShardJob, type ShardResult } from './shard.js';

export interface WorkerOptions {
  url: string;
  queueName?: string;
  teacher: Teacher;
  /** The teacher's fingerprint (teacherId.ts). */
  fingerprint: string;
  /** How long a job's lock lasts without renewal: a killed worker's shard is redone after about this long. */
  lockMs?: number;
  /** Hears each finished shard. */
  onShard?: (s: { id: string; texts: number; ms: number }) => void;
  /** Called as a shard starts (tests use it to kill a worker mid-shard). */
  onStart?: (id: string) => void | Promise<void>;
  /** Hears trouble the worker recovers from (a lost connection or lock). */
  onError?: (e: Error) => void;
  /** Tests: alter a result before it is handed back (to check the coordinator rejects it). */
  tamper?: (r: ShardResult, id: string) => ShardResult;
}

export interface WorkerHandle {
  readonly id: string;
  /** Resolves when the worker is closed; rejects when it refused (teacher mismatch) or failed. */
  readonly done: Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_LOCK_MS = 30_000;

export async function startWorker(o: WorkerOptions): Promise<WorkerHandle> {
  const target = parseRedisUrl(o.url);
  await checkRedis(target);
  const name = o.queueName ?? DEFAULT_QUEUE;
  const connection = connectionOf(target);
  const refuse = (theirs: string) =>
    new SlimtextError(`this worker's teacher (fingerprint ${o.fingerprint.slice(0, 16)}) is not the coordinator's (${theirs.slice(0, 16)}) on queue '${name}' at ${o.url}: start the worker with the coordinator's teacher folder`);
  const meta = new Redis(connection);
  try {
    const published = await meta.get(teacherKey(name));
    const theirs = published ? (JSON.parse(published) as { fingerprint?: string }).fingerprint : undefined;
    if (theirs && theirs !== o.fingerprint) throw refuse(theirs);
  } finally {
    meta.disconnect();
  }

  const id = `${hostname()}:${process.pid}`;
  const C = o.teacher.labels.length;
  let settle!: { resolve: () => void; reject: (e: Error) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  let refused: Error | undefined;
  const lockDuration = o.lockMs ?? DEFAULT_LOCK_MS;
  const worker: Worker<ShardJob, ShardResult> = new Worker<ShardJob, ShardResult>(
    name,
    async (job: Job<ShardJob>) => {
      const d = job.data;
      if (d.teacher !== o.fingerprint) {
        refused ??= refuse(d.teacher);
        // Throwing puts the shard back (with backoff) for a worker with the right teacher.
        void worker.close().then(() => settle.reject(refused!));
        throw refused;
      }
      await o.onStart?.(job.id!);
      const t0 = performance.now();
      const logits = new Float32Array(d.texts.length * C);
      for (let s = 0; s < d.texts.length; s += d.batch) {
        const part = o.teacher.logits(d.texts.slice(s, s + d.batch));
        logits.set(part, s * C);
        await yieldNow();
      }
      const ms = performance.now() - t0;
      let r = encodeResult(d, logits, C, id, ms);
      if (o.tamper) r = o.tamper(r, job.id!);
      o.onShard?.({ id: job.id!, texts: d.texts.length, ms });
      return r;
    },
    { connection, concurrency: 1, lockDuration, stalledInterval: Math.max(500, Math.floor(lockDuration / 2)), maxStalledCount: 10 },
  );
  // BullMQ reports trouble it recovers from here (a lost connection, which ioredis re-opens; a lock
  // lost on a long shard, whose result is then dropped while the shard is redone elsewhere): the
  // worker carries on.
  worker.on('error', (e) => o.onError?.(e));
  worker.on('closed', () => {
    if (!refused) settle.resolve();
  });
  await worker.waitUntilReady();
  return {
    id,
    done,
    async close() {
      await worker.close();
      settle.resolve();
    },
  };
}
