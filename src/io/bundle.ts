/**
 * slimtext's own model folder (a "bundle"): what `finetune` writes and `eval` / `predict` load.
 *
 *   slimtext.json               the manifest: format, version, task, architecture, labels, training
 *                               recipe, metrics, and every other file with its size and SHA-256
 *   model-<hash>.safetensors    all tensors, under Hugging Face names where one exists
 *   <key>-<hash>.safetensors    further weight files (a multi-task model's branches), by key
 *   vocab.txt, tokenizer*.json  the tokenizer files, copied in, so the folder stands alone
 *   <name>.json                 task data (e.g. the reply set of a reply-suggestion model)
 *
 * Saving is atomic as a whole, not only file by file: the weights go to a new content-named file,
 * every file is written atomically, and the manifest, written last, is the commit point (a reader
 * sees the old bundle or the new one). Old weight files are removed after the commit. Loading
 * checks every listed file's size and hash, so a folder mixed from two saves is an error naming the
 * file, never a silently wrong model.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { encodeSafetensors, readSafetensors, type SafeTensor, type TensorToWrite } from './safetensors.js';

export const BUNDLE_FORMAT = 'slimtext-model';
export const BUNDLE_VERSION = 1;
export const MANIFEST_FILE = 'slimtext.json';

export interface FileEntry {
  bytes: number;
  sha256: string;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  version: number;
  /** What the model does: 'classify', 'pair', 'reply', ... */
  task: string;
  /** Everything needed to rebuild the modules before loading the tensors. */
  architecture: Record<string, unknown>;
  /** Class labels in id order (classification tasks). */
  labels?: string[];
  tokenizer: { files: string[] };
  /** The weights file, one of `files`. */
  weights: string;
  /** Further weight files by key (one per branch of a multi-task model), each one of `files`. */
  weight_files?: Record<string, string>;
  /** How the model was trained (options, data, seeds). */
  recipe: Record<string, unknown>;
  /** Held-out results at save time. */
  metrics: Record<string, unknown>;
  /** Things a user should know (pooler initialised, layers dropped, ...). */
  notes: string[];
  /** Every file of the bundle except the manifest. */
  files: Record<string, FileEntry>;
  created: string;
}

export interface BundleInput {
  task: string;
  architecture: Record<string, unknown>;
  labels?: readonly string[];
  recipe?: Record<string, unknown>;
  metrics?: Record<string, unknown>;
  notes?: readonly string[];
  tensors: Map<string, TensorToWrite>;
  /**
   * Further weight files by key ([\w.-]+), each content-named. A file already in the folder with
   * the same name and bytes is left as it is, so changing one of them leaves the others' bytes
   * (and the files themselves) untouched.
   */
  weightFiles?: Record<string, Map<string, TensorToWrite>>;
  /** Tokenizer files to copy in (kept under their own names). */
  tokenizerFiles: readonly string[];
  /** Extra JSON files, by file name. */
  data?: Record<string, unknown>;
}

export interface Bundle {
  dir: string;
  manifest: BundleManifest;
  tensors: Map<string, SafeTensor>;
  /** The tensors of a further weight file, by its key (undefined when there is no such key). */
  weightsOf(key: string): Promise<Map<string, SafeTensor> | undefined>;
  /** An extra JSON file's parsed content (undefined when the bundle has no such file). */
  data(name: string): unknown;
}

/** True when `dir` holds a bundle manifest. */
export function isBundle(dir: string): boolean {
  return existsSync(join(dir, MANIFEST_FILE));
}

/** Writes (or atomically replaces) a bundle in `dir`; returns the manifest written. */
export async function writeBundle(dir: string, input: BundleInput): Promise<BundleManifest> {
  await mkdir(dir, { recursive: true });
  const files: Record<string, FileEntry> = {};
  const put = async (name: string, bytes: Uint8Array[] | Uint8Array, keepSame = false): Promise<void> => {
    const chunks = Array.isArray(bytes) ? bytes : [bytes];
    const h = createHash('sha256');
    let n = 0;
    for (const c of chunks) {
      h.update(c);
      n += c.byteLength;
    }
    files[name] = { bytes: n, sha256: h.digest('hex') };
    if (keepSame && sameFile(join(dir, name), files[name]!)) return;
    await writeFileAtomic(join(dir, name), chunks);
  };
  const putWeights = async (key: string, tensors: Map<string, TensorToWrite>): Promise<string> => {
    const chunks = encodeSafetensors(tensors, { format: 'pt' }, join(dir, `${key}.safetensors`));
    const name = `${key}-${hashOf(chunks).slice(0, 12)}.safetensors`;
    await put(name, chunks, true);
    return name;
  };

  const weights = await putWeights('model', input.tensors);
  const weightFiles: Record<string, string> = {};
  for (const [key, tensors] of Object.entries(input.weightFiles ?? {})) {
    if (!/^[\w.-]+$/.test(key) || key === 'model') throw new InputError(join(dir, key), undefined, undefined, 'not a usable key for a bundle weight file');
    weightFiles[key] = await putWeights(key, tensors);
  }
  const tokenizerNames: string[] = [];
  for (const f of input.tokenizerFiles) {
    const name = basename(f);
    if (name === MANIFEST_FILE || name in files) throw new InputError(f, undefined, undefined, `cannot be copied into a bundle under the name '${name}'`);
    tokenizerNames.push(name);
    await put(name, new Uint8Array(await readFile(f)));
  }
  for (const [name, value] of Object.entries(input.data ?? {})) {
    if (name === MANIFEST_FILE || name in files || !/^[\w.-]+\.json$/.test(name)) throw new InputError(join(dir, name), undefined, undefined, 'not a usable name for a bundle data file');
    await put(name, Buffer.from(`${JSON.stringify(value)}\n`, 'utf8'));
  }
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    task: input.task,
    architecture: input.architecture,
    ...(input.labels ? { labels: [...input.labels] } : {}),
    tokenizer: { files: tokenizerNames },
    weights,
    ...(input.weightFiles ? { weight_files: weightFiles } : {}),
    recipe: input.recipe ?? {},
    metrics: input.metrics ?? {},
    notes: [...(input.notes ?? [])],
    files,
    created: new Date().toISOString(),
  };
  await writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  // After the commit: earlier saves' weights are no longer referenced.
  for (const f of await readdir(dir)) {
    if (/^(model|branch-[\w.-]+)-[0-9a-f]{12}\.safetensors$/.test(f) && !(f in files)) await unlink(join(dir, f)).catch(() => undefined);
  }
  return manifest;
}

/** Reads and verifies a bundle. Errors name the file and what is wrong with it. */
export async function readBundle(dir: string): Promise<Bundle> {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) {
    const hf = existsSync(join(dir, 'config.json'));
    throw new InputError(dir, undefined, undefined, hf
      ? `a Hugging Face checkpoint, not a slimtext model (no ${MANIFEST_FILE}); fine-tune it first with slimtext finetune`
      : `not a slimtext model folder (no ${MANIFEST_FILE})`);
  }
  const manifest = parseManifest(path);
  for (const [name, want] of Object.entries(manifest.files)) {
    const p = join(dir, name);
    if (!existsSync(p)) throw new InputError(p, undefined, undefined, `listed in ${MANIFEST_FILE} but missing`);
    const bytes = readFileSync(p);
    if (bytes.byteLength !== want.bytes || hashOf([bytes]) !== want.sha256) {
      throw new InputError(p, undefined, undefined, `does not match ${MANIFEST_FILE} (size or SHA-256 differs): the folder mixes files from two saves, or was edited`);
    }
  }
  const file = await readSafetensors(join(dir, manifest.weights));
  const data = new Map<string, unknown>();
  return {
    dir,
    manifest,
    tensors: file.tensors,
    async weightsOf(key) {
      const name = manifest.weight_files?.[key];
      return name === undefined ? undefined : (await readSafetensors(join(dir, name))).tensors;
    },
    data(name) {
      if (!(name in manifest.files)) return undefined;
      if (!data.has(name)) data.set(name, readJson(join(dir, name)));
      return data.get(name);
    },
  };
}

// ------------------------------------------------------------------------------------------------

/** True when `path` exists with exactly this size and SHA-256. */
function sameFile(path: string, want: FileEntry): boolean {
  if (!existsSync(path)) return false;
  const bytes = readFileSync(path);
  return bytes.byteLength === want.bytes && hashOf([bytes]) === want.sha256;
}

function hashOf(chunks: Iterable<Uint8Array>): string {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
}

function parseManifest(path: string): BundleManifest {
  const m = readJson(path) as Partial<BundleManifest> | null;
  const bad = (field: string, why: string): never => {
    throw new InputError(path, undefined, field, why);
  };
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return bad('', 'expected a JSON object');
  if (m.format !== BUNDLE_FORMAT) bad('format', `expected '${BUNDLE_FORMAT}', got ${JSON.stringify(m.format)}`);
  if (typeof m.version !== 'number' || !Number.isInteger(m.version) || m.version < 1) bad('version', `expected a positive integer, got ${JSON.stringify(m.version)}`);
  if (m.version! > BUNDLE_VERSION) bad('version', `version ${m.version} was written by a newer slimtext; this one reads up to version ${BUNDLE_VERSION}`);
  if (typeof m.task !== 'string') bad('task', 'missing');
  if (typeof m.architecture !== 'object' || m.architecture === null) bad('architecture', 'missing');
  if (typeof m.files !== 'object' || m.files === null) bad('files', 'missing');
  if (typeof m.weights !== 'string' || !(m.weights in m.files!)) bad('weights', 'missing, or not one of the listed files');
  for (const [name, e] of Object.entries(m.files!)) {
    if (name.includes('/') || name.includes('\\') || name === '..' || typeof e?.bytes !== 'number' || typeof e?.sha256 !== 'string') bad(`files.${name}`, 'not a file entry {bytes, sha256} of a file in this folder');
  }
  if (m.weight_files !== undefined) {
    if (typeof m.weight_files !== 'object' || m.weight_files === null) bad('weight_files', 'expected an object of key: file');
    for (const [k, f] of Object.entries(m.weight_files!)) if (typeof f !== 'string' || !(f in m.files!)) bad(`weight_files.${k}`, 'missing, or not one of the listed files');
  }
  if (m.labels !== undefined && (!Array.isArray(m.labels) || m.labels.some((l) => typeof l !== 'string'))) bad('labels', 'expected a list of strings');
  return { recipe: {}, metrics: {}, notes: [], tokenizer: { files: [] }, ...m } as BundleManifest;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(path, undefined, undefined, `not valid JSON: ${(e as Error).message}`);
  }
}
