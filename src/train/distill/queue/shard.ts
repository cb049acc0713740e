/**
 * One shard of a distributed labelling run: the job a coordinator enqueues (the texts themselves,
 * so a worker needs no access to the corpus files) and the result a worker hands back (the logits,
 * with what the coordinator needs to reject a wrong or damaged one before merging it).
 *
 * Job ids are content addresses: a hash of the teacher, the teacher batch size and the shard's
 * texts, plus a generation that goes up when a result is rejected. A coordinator that restarts
 * computes the same ids, so shards finished while it was down are found, not labelled again.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

export interface ShardJob {
  /** The teacher the coordinator labels with (teacherId.ts); a worker with another refuses. */
  teacher: string;
  /** Texts per teacher call: the worker labels the shard in slices of this many, as in-process labelling does. */
  batch: number;
  texts: string[];
  /** Hash of the texts (shardHash): the worker echoes the one it computes. */
  shard: string;
}

export interface ShardResult {
  teacher: string;
  shard: string;
  rows: number;
  classes: number;
  /** rows x classes float32, little-endian, base64. */
  logits: string;
  /** CRC-32 of the logits bytes. */
  crc: number;
  /** Who labelled it (host:pid) and how long the teacher took. */
  worker: string;
  ms: number;
}

export function shardHash(texts: readonly string[]): string {
  const h = createHash('sha1');
  h.update(String(texts.length));
  for (const t of texts) h.update('\0').update(t);
  return h.digest('hex');
}

/** The BullMQ job id of a shard (no ':' allowed there). */
export function shardJobId(job: ShardJob, generation: number): string {
  const h = createHash('sha1').update(job.teacher).update(`/${job.batch}/`).update(job.shard).digest('hex').slice(0, 32);
  return `shard-${h}-g${generation}`;
}

export function encodeResult(job: ShardJob, logits: Float32Array, classes: number, worker: string, ms: number): ShardResult {
  const bytes = Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength);
  return { teacher: job.teacher, shard: shardHash(job.texts), rows: job.texts.length, classes, logits: bytes.toString('base64'), crc: crc32(bytes), worker, ms };
}

/** The logits of a result, or why it cannot be merged. */
export function decodeResult(r: unknown, job: ShardJob, classes: number): { logits: Float32Array } | { reject: string } {
  if (r === null || typeof r !== 'object') return { reject: 'no result object' };
  const x = r as Partial<ShardResult>;
  if (x.teacher !== job.teacher) return { reject: `labelled by teacher ${String(x.teacher).slice(0, 12)}, not ${job.teacher.slice(0, 12)}` };
  if (x.shard !== job.shard) return { reject: 'result is for other texts (shard hash differs)' };
  if (x.rows !== job.texts.length || x.classes !== classes) return { reject: `shape ${String(x.rows)} x ${String(x.classes)}, expected ${job.texts.length} x ${classes}` };
  if (typeof x.logits !== 'string') return { reject: 'no logits' };
  const bytes = Buffer.from(x.logits, 'base64');
  if (bytes.length !== job.texts.length * classes * 4) return { reject: `${bytes.length} logit bytes, expected ${job.texts.length * classes * 4}` };
  if (crc32(bytes) !== x.crc) return { reject: 'logits checksum mismatch (damaged in transit or in Redis)' };
  const logits = new Float32Array(bytes.length / 4);
  new Uint8Array(logits.buffer).set(bytes);
  for (let i = 0; i < logits.length; i++) if (!Number.isFinite(logits[i]!)) return { reject: `non-finite logit at row ${Math.floor(i / classes)}` };
  return { logits };
}
