/**
 * What a saved model is and what it weighs, from its manifest and its weights file's header
 * (no tensor data read): kind, task, labels, bytes on disk, embedding bytes, parameters, the
 * table format, the compression recipe and the saved metrics. `slimtext inspect` prints it and
 * `slimtext eval --json` adds the byte counts.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { MANIFEST_FILE, type BundleManifest } from '../io/bundle.js';
import { readSafetensorsHeader } from '../io/safetensors.js';

export interface ModelInfo {
  dir: string;
  kind: string;
  task: string;
  labels: number;
  /** Every file of the bundle, manifest included. */
  bytes_on_disk: number;
  /** The weights of the (word or n-gram) embedding table, as stored. */
  embedding_bytes: number;
  parameters: number;
  embedding_parameters: number;
  table: Record<string, unknown>;
  /** How the encoder's linear layers (Q, K, V, attention output, FFN) are stored: 'int8' (compress --method int8-linear), 'fp32', or 'none' (a DAN). */
  linear_format: 'int8' | 'fp32' | 'none';
  /** Bytes of those layers' weights as stored (int8 codes and their scales, or fp32), biases excluded. */
  linear_bytes: number;
  compression: unknown;
  metrics: Record<string, unknown>;
}

/** Tensor names of the embedding table: a DAN's n-gram table, a transformer's word embeddings. */
export function isEmbeddingTensor(name: string): boolean {
  return name.startsWith('embeddings.') || name.includes('.word_embeddings.');
}

/** An encoder linear layer's weight tensor, as fp32 or int8 codes and scales (the suffix is group 1). */
const ENCODER_LINEAR = /encoder\.layer\.\d+\.(?:attention\.self\.(?:query|key|value)|attention\.output\.dense|intermediate\.dense|output\.dense)\.weight(_int8|_scale)?$/;

export async function inspectModel(dir: string): Promise<ModelInfo> {
  const b = await readBundleManifest(dir);
  const m = b.manifest;
  const header = await readSafetensorsHeader(join(dir, m.weights));
  let params = 0, embParams = 0, embBytes = 0, linBytes = 0, lin: ModelInfo['linear_format'] = 'none';
  for (const [name, t] of header.tensors) {
    const l = ENCODER_LINEAR.exec(name);
    if (l) {
      linBytes += t.dataOffsets[1] - t.dataOffsets[0];
      if (l[1] === '_int8') lin = 'int8';
      else if (lin === 'none') lin = 'fp32';
    }
    const n = t.shape.reduce((a, c) => a * c, 1);
    params += n;
    if (isEmbeddingTensor(name)) {
      embParams += n;
      embBytes += t.dataOffsets[1] - t.dataOffsets[0];
    }
  }
  let bytes = (await stat(join(dir, MANIFEST_FILE))).size;
  for (const f of Object.keys(m.files)) bytes += (await stat(join(dir, f))).size;
  const a = m.architecture;
  const table = ((a.table ?? a.word_table) as Record<string, unknown> | undefined) ?? { kind: 'dense' };
  return {
    dir,
    kind: String(a.kind ?? a.model_type ?? 'transformer'),
    task: m.task,
    labels: m.labels?.length ?? 0,
    bytes_on_disk: bytes,
    embedding_bytes: embBytes,
    parameters: params,
    embedding_parameters: embParams,
    table,
    linear_format: lin,
    linear_bytes: linBytes,
    compression: (m.recipe as Record<string, unknown>).compression ?? null,
    metrics: m.metrics,
  };
}

// The manifest alone (readBundle also loads the tensors; a 600 MB table need not be read to be described).
async function readBundleManifest(dir: string): Promise<{ manifest: BundleManifest }> {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new InputError(file, undefined, undefined, 'not found: is this a slimtext model folder?');
  }
  try {
    return { manifest: JSON.parse(text) as BundleManifest };
  } catch (e) {
    throw new InputError(file, undefined, undefined, `not valid JSON: ${(e as Error).message}`);
  }
}
