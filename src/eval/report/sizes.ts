/**
 * Where a model's bytes on disk go: each tensor of the weights file goes to a part by its name,
 * the tokenizer files (WordPiece vocabulary, n-gram vocabulary) are the vocabulary, everything else
 * (the manifest, task data, the safetensors header) is 'other'. Parts sum to the folder's size.
 * A new tensor family (a compressed table's codebooks, a multi-task model's heads) is one more rule.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_FILE, type BundleManifest } from '../../io/bundle.js';
import { readSafetensorsHeader } from '../../io/safetensors.js';
import type { SizeRow } from './data.js';

/** First match wins; tensors matching none are 'heads'. */
export const PART_RULES: readonly { part: string; test: RegExp }[] = [
  { part: 'embeddings', test: /(^|\.)embeddings\./ },
  { part: 'layers', test: /(^|\.)encoder\.layer\.\d+\./ },
];

export const PART_ORDER = ['embeddings', 'layers', 'heads', 'vocabulary', 'other'] as const;

export function partOf(tensor: string): string {
  return PART_RULES.find((r) => r.test.test(tensor))?.part ?? 'heads';
}

/** Bytes by part of the model folder `dir` (every part listed, zero or not). */
export async function bytesByPart(dir: string, manifest: BundleManifest, model: string): Promise<SizeRow[]> {
  const bytes = new Map<string, number>(PART_ORDER.map((p) => [p, 0]));
  const add = (part: string, n: number) => bytes.set(part, (bytes.get(part) ?? 0) + n);
  // A multi-task model's branches are weight files of their own (weight_files), split the same way.
  const weightFiles = [manifest.weights, ...Object.values(manifest.weight_files ?? {})];
  const tensorBytes = new Map<string, number>();
  for (const file of weightFiles) {
    const header = await readSafetensorsHeader(join(dir, file));
    let sum = 0;
    for (const [name, info] of header.tensors) {
      const n = info.dataOffsets[1] - info.dataOffsets[0];
      sum += n;
      add(partOf(name), n);
    }
    tensorBytes.set(file, sum);
  }
  // Stored names: a bundle's files are content-named (vocab-<hash>.txt), `names` maps them.
  const tokenizer = new Set(manifest.tokenizer.files.map((f) => manifest.names?.[f] ?? f));
  for (const [name, f] of Object.entries(manifest.files)) {
    const t = tensorBytes.get(name);
    if (t !== undefined) add('other', f.bytes - t);
    else add(tokenizer.has(name) ? 'vocabulary' : 'other', f.bytes);
  }
  add('other', statSync(join(dir, MANIFEST_FILE)).size);
  return [...bytes].map(([part, b]) => ({ model, part, bytes: b }));
}
