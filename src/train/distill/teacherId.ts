/**
 * A teacher's identity: one SHA-256 over what decides its logits (the manifest's architecture,
 * labels, tokenizer, and the SHA-256 of every file it lists, weights included). Read from the
 * manifest alone, so a coordinator that never loads the weights can name the teacher; loading the
 * teacher (io/bundle.ts) checks the files against those hashes, so a worker's id is of the weights
 * it really runs. Kept in this one small function so the logits-file header can use the same id.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import { MANIFEST_FILE, modelIdentity, type BundleManifest } from '../../io/bundle.js';

export interface TeacherId {
  /** Hex SHA-256 (64 characters). */
  fingerprint: string;
  labels: string[];
  /** Folder, architecture kind (what a logits file's header records). */
  info: Record<string, unknown>;
}

export function teacherId(dir: string): TeacherId {
  const path = join(dir, MANIFEST_FILE);
  let m: { architecture?: unknown; labels?: unknown; tokenizer?: unknown; files?: Record<string, { sha256?: string }>; task?: unknown };
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as typeof m;
  } catch (e) {
    throw new InputError(path, undefined, undefined, `cannot read the teacher's manifest: ${(e as Error).message}`);
  }
  if (m.task !== 'classify') throw new InputError(path, undefined, 'task', `a teacher must be a single-text classifier, this model's task is '${String(m.task)}'`);
  if (!Array.isArray(m.labels) || m.labels.length === 0) throw new InputError(path, undefined, 'labels', 'a teacher needs its class labels');
  const files = Object.entries(m.files ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, e]) => [name, e.sha256]);
  const fingerprint = createHash('sha256').update(JSON.stringify({ architecture: m.architecture, labels: m.labels, tokenizer: m.tokenizer, files })).digest('hex');
  const arch = (m.architecture as { kind?: unknown } | undefined)?.kind;
  // `identity` is what in-process labelling records too, so resume and distill --teacher check both alike.
  const identity = modelIdentity(m as BundleManifest);
  return { fingerprint, labels: m.labels as string[], info: { dir, architecture: String(arch ?? 'unknown'), fingerprint, identity } };
}
