/**
 * The identity of a frozen trunk: content hashes of the embeddings, of each frozen encoder layer
 * and of the tokenizer files. Fine-tuning records it in a branch model's manifest
 * (`architecture.trunk`), and `merge` recomputes it from the branch's own tensors, so a merged
 * model can prove its branches share the bytes they sit on. Layers are hashed one by one (not only
 * as a whole) so that branches starting at different depths of one checkpoint can be checked on
 * the layers they share.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { logicalName } from '../io/bundle.js';

export const TRUNK_VERSION = 1;

export interface TrunkIdentity {
  version: number;
  /** The first encoder layer that trains (the branch starts here): layers [0, start_layer) are frozen. */
  start_layer: number;
  /** sha256 of the embedding tensors. */
  embeddings: string;
  /** sha256 of each frozen layer's tensors, bottom first (start_layer entries). */
  layers: string[];
  /** sha256 of the tokenizer files (names and bytes). */
  tokenizer: string;
  /** sha256 of all of the above: equal ids mean equal trunks. */
  id: string;
}

export interface HostTensor {
  shape: readonly number[];
  data: Float32Array;
}

/**
 * The identity of the trunk of a classifier's tensors (`bert.embeddings.*`, `bert.encoder.layer.K.*`),
 * frozen below `startLayer`. `tensors` maps full parameter names to their values.
 */
export function trunkIdentity(tensors: ReadonlyMap<string, HostTensor>, startLayer: number, tokenizerFiles: readonly string[], prefix = 'bert.'): TrunkIdentity {
  const embeddings = hashTensors(tensors, `${prefix}embeddings.`);
  const layers = Array.from({ length: startLayer }, (_, i) => hashTensors(tensors, `${prefix}encoder.layer.${i}.`));
  const tok = createHash('sha256');
  // Hashed under the logical name: a saved model's files are content-named (vocab-<12 hex>.txt,
  // io/bundle.ts), a checkpoint's are not, and a branch must match the checkpoint it came from.
  const files = tokenizerFiles.map((f) => {
    const bytes = readFileSync(f);
    return { name: logicalName(basename(f), bytes), bytes };
  });
  for (const { name, bytes } of files.sort((a, b) => a.name.localeCompare(b.name))) {
    tok.update(`${name}\n`);
    tok.update(bytes);
  }
  const tokenizer = tok.digest('hex');
  const id = createHash('sha256').update([embeddings, ...layers, tokenizer].join('\n')).digest('hex');
  return { version: TRUNK_VERSION, start_layer: startLayer, embeddings, layers, tokenizer, id };
}

/** Why two trunks cannot be shared up to the shallower one's depth, or undefined when they can. */
export function trunkMismatch(a: TrunkIdentity, b: TrunkIdentity): string | undefined {
  if (a.tokenizer !== b.tokenizer) return 'their tokenizers differ';
  if (a.embeddings !== b.embeddings) return 'their embeddings differ';
  const n = Math.min(a.layers.length, b.layers.length);
  for (let i = 0; i < n; i++) if (a.layers[i] !== b.layers[i]) return `their frozen encoder layer ${i} differs`;
  return undefined;
}

/** Reads a recorded identity from a manifest value; undefined when absent or malformed. */
export function parseTrunkIdentity(v: unknown): TrunkIdentity | undefined {
  const t = v as Partial<TrunkIdentity> | undefined;
  if (!t || typeof t !== 'object') return undefined;
  const hex = (x: unknown) => typeof x === 'string' && /^[0-9a-f]{64}$/.test(x);
  if (t.version !== TRUNK_VERSION || !Number.isInteger(t.start_layer) || t.start_layer! < 0) return undefined;
  if (!hex(t.embeddings) || !hex(t.tokenizer) || !hex(t.id) || !Array.isArray(t.layers) || t.layers.length !== t.start_layer || !t.layers.every(hex)) return undefined;
  return t as TrunkIdentity;
}

/** sha256 over every tensor whose name starts with `prefix`, by local name, with shapes. */
function hashTensors(tensors: ReadonlyMap<string, HostTensor>, prefix: string): string {
  const h = createHash('sha256');
  const names = [...tensors.keys()].filter((n) => n.startsWith(prefix)).sort();
  for (const n of names) {
    const t = tensors.get(n)!;
    h.update(`${n.slice(prefix.length)} [${t.shape.join(',')}]\n`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}
