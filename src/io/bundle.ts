/**
 * slimtext's own model folder (a "bundle"): what `finetune` writes and `eval` / `predict` load.
 *
 *   slimtext.json               the manifest: format, version, task, architecture, labels, training
 *                               recipe, metrics, and every other file with its size and SHA-256
 *   model-<hash>.safetensors    all tensors, under Hugging Face names where one exists
 *   <key>-<hash>.safetensors    further weight files (a multi-task model's branches), by key
 *   vocab-<hash>.txt, ...       the tokenizer files, copied in, so the folder stands alone
 *   <name>-<hash>.json          task data (e.g. the reply set of a reply-suggestion model)
 *
 * Saving is all-or-nothing: EVERY file but the manifest gets a content-addressed name
 * (`<stem>-<first 12 hex of its SHA-256><ext>`), so a save never replaces a file the current
 * manifest refers to; the manifest, written atomically last, is the single commit point, and
 * `names` in it maps each logical name (`vocab.txt`) to its file. A save killed at any step leaves
 * the old bundle whole (or, in a new folder, no bundle); files the commit made unreferenced, and
 * leftovers of killed saves, are removed after the commit and by the next save. Loading checks
 * every listed file's size and hash. Read files through `bundleFile` / `Bundle.path`, never by a
 * fixed name (version 1 bundles, with plain names, still load).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { recordedFileArrays, sharedFileArray, sharingWeights } from '../engine/sharedWeights.js';
import { InputError } from '../errors.js';
import { makeDir, removeFile, removeStaleTemps, writeFileAtomic } from './atomic.js';
import { encodeSafetensors, readSafetensors, readSafetensorsHeader, type SafeTensor, type TensorToWrite } from './safetensors.js';

export const BUNDLE_FORMAT = 'slimtext-model';
export const BUNDLE_VERSION = 2;
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
  /** Every file of the bundle except the manifest, by its name on disk. */
  files: Record<string, FileEntry>;
  /** Logical name (`vocab.txt`, `responses.json`) -> name on disk (version 2; absent: the same). */
  names?: Record<string, string>;
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
  /** Path of a file by its logical name (`vocab.txt`), undefined when the bundle has none. */
  path(name: string): string | undefined;
}

/** True when `dir` holds a bundle manifest. */
export function isBundle(dir: string): boolean {
  return existsSync(join(dir, MANIFEST_FILE));
}

/** Writes (or atomically replaces) a bundle in `dir`; returns the manifest written. */
export async function writeBundle(dir: string, input: BundleInput): Promise<BundleManifest> {
  await makeDir(dir);
  const previous = readManifestQuietly(dir);
  const files: Record<string, FileEntry> = {};
  const names: Record<string, string> = {};
  const put = async (name: string, bytes: Uint8Array[] | Uint8Array): Promise<string> => {
    if (name === MANIFEST_FILE || name in names) throw new InputError(join(dir, name), undefined, undefined, `a bundle cannot hold two files named '${name}'`);
    const chunks = Array.isArray(bytes) ? bytes : [bytes];
    const sha256 = hashOf(chunks);
    const stored = storedName(name, sha256);
    files[stored] = { bytes: chunks.reduce((n, c) => n + c.byteLength, 0), sha256 };
    names[name] = stored;
    // A content-addressed file already there with these bytes stays as it is: changing one branch of
    // a multi-task model leaves the other branches' files untouched.
    if (!sameFile(join(dir, stored), files[stored]!)) await writeFileAtomic(join(dir, stored), chunks);
    return stored;
  };
  const putWeights = (key: string, tensors: Map<string, TensorToWrite>): Promise<string> =>
    put(`${key}.safetensors`, encodeSafetensors(tensors, { format: 'pt' }, join(dir, `${key}.safetensors`)));
  const weights = await putWeights('model', input.tensors);
  const weightFiles: Record<string, string> = {};
  for (const [key, tensors] of Object.entries(input.weightFiles ?? {})) {
    if (!/^[\w.-]+$/.test(key) || key === 'model') throw new InputError(join(dir, key), undefined, undefined, 'not a usable key for a bundle weight file');
    weightFiles[key] = await putWeights(key, tensors);
  }
  const tokenizerNames: string[] = [];
  for (const f of input.tokenizerFiles) {
    const bytes = new Uint8Array(await readFile(f));
    const name = logicalName(basename(f), bytes);
    if (name === MANIFEST_FILE || name in names) throw new InputError(f, undefined, undefined, `cannot be copied into a bundle under the name '${name}'`);
    tokenizerNames.push(name);
    await put(name, bytes);
  }
  for (const [name, value] of Object.entries(input.data ?? {})) {
    if (name === MANIFEST_FILE || name in names || !/^[\w.-]+\.json$/.test(name)) throw new InputError(join(dir, name), undefined, undefined, 'not a usable name for a bundle data file');
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
    names,
    created: new Date().toISOString(),
  };
  await writeFileAtomic(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  await collectGarbage(dir, manifest, previous);
  return manifest;
}

/**
 * What makes a model the model it is, from its manifest alone (no weights read): the SHA-256 of its
 * weights, of its architecture and labels, and of its tokenizer files. Recorded by `slimtext label`
 * in logits files so that a resume, or `distill --teacher`, can refuse another teacher's logits.
 */
export interface ModelIdentity {
  weights_sha256: string;
  architecture_sha256: string;
  tokenizer_sha256: string;
}

export function modelIdentity(manifest: BundleManifest): ModelIdentity {
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const stored = (name: string) => manifest.names?.[name] ?? name;
  return {
    weights_sha256: manifest.files[manifest.weights]!.sha256,
    architecture_sha256: sha(JSON.stringify({ task: manifest.task, architecture: manifest.architecture, labels: manifest.labels ?? null })),
    tokenizer_sha256: sha(JSON.stringify(manifest.tokenizer.files.map((f) => [f, manifest.files[stored(f)]?.sha256 ?? null]))),
  };
}

/** Path of a bundle file by its logical name (`vocab.txt`), or undefined when the bundle has none. */
export function bundleFile(dir: string, manifest: BundleManifest, name: string): string | undefined {
  const stored = manifest.names ? manifest.names[name] : name in manifest.files ? name : undefined;
  return stored === undefined ? undefined : join(dir, stored);
}

/**
 * Logical name -> path of every file of the bundle in `dir` (no hashes checked: for loaders that
 * only need to find files, like the tokenizer's); undefined when `dir` holds no bundle.
 */
export function bundleFiles(dir: string): Map<string, string> | undefined {
  const m = readManifestQuietly(dir);
  if (!m || typeof m.files !== 'object' || m.files === null) return undefined;
  const names = m.names ?? Object.fromEntries(Object.keys(m.files).map((f) => [f, f]));
  return new Map(Object.entries(names).map(([name, stored]) => [name, join(dir, stored)]));
}

/** Reads and verifies a bundle. Errors name the file and what is wrong with it. */
export async function readBundle(dir: string): Promise<Bundle> {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(dir)) throw new InputError(dir, undefined, undefined, 'no such folder (expected a slimtext model folder)');
  if (!statSync(dir).isDirectory()) throw new InputError(dir, undefined, undefined, 'is a file; expected a slimtext model folder');
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
    const got = hashFile(p);
    if (got.bytes !== want.bytes || got.sha256 !== want.sha256) {
      throw new InputError(p, undefined, undefined, `does not match ${MANIFEST_FILE} (size or SHA-256 differs): the folder mixes files from two saves, or was edited`);
    }
  }
  const tensors = await readWeights(join(dir, manifest.weights), manifest.files[manifest.weights]!.sha256);
  const data = new Map<string, unknown>();
  return {
    dir,
    manifest,
    tensors,
    async weightsOf(key) {
      const name = manifest.weight_files?.[key];
      return name === undefined ? undefined : readWeights(join(dir, name), manifest.files[name]?.sha256 ?? name);
    },
    data(name) {
      const p = bundleFile(dir, manifest, name);
      if (p === undefined) return undefined;
      if (!data.has(name)) data.set(name, readJson(p));
      return data.get(name);
    },
    path: (name) => bundleFile(dir, manifest, name),
  };
}

/**
 * A weights file's tensors. Inside a weight-sharing scope (engine/sharedWeights.ts: the server's
 * workers) they are the shared arrays named by the file's SHA-256 and the tensor: another thread's,
 * when it loaded this file already (then only the header is read), else read into shared memory.
 */
async function readWeights(path: string, fileSha: string): Promise<Map<string, SafeTensor>> {
  if (!sharingWeights()) return (await readSafetensors(path)).tensors;
  const header = await readSafetensorsHeader(path);
  const infos = [...header.tensors];
  const taken = recordedFileArrays(
    fileSha,
    infos.map(([name, i]) => ({ name, type: FLOAT_DTYPES.has(i.dtype) ? 'float' : 'int', length: i.shape.reduce((x, y) => x * y, 1) })),
  );
  if (taken) return new Map(infos.map(([name, i], k) => [name, { dtype: i.dtype, shape: i.shape, data: taken[k] as Float32Array | Int32Array }]));
  const tensors = (await readSafetensors(path, { shared: true })).tensors;
  for (const [name, t] of tensors) tensors.set(name, { ...t, data: sharedFileArray(fileSha, name, t.data) });
  return tensors;
}

const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16']);

// ------------------------------------------------------------------------------------------------

/** `vocab.txt` -> `vocab-<12 hex>.txt`; `model.safetensors` -> `model-<12 hex>.safetensors`. */
function storedName(name: string, sha256: string): string {
  const ext = extname(name);
  return `${name.slice(0, name.length - ext.length)}-${sha256.slice(0, 12)}${ext}`;
}

/**
 * The logical name of a file as a bundle stores it (`vocab-<12 hex>.txt` -> `vocab.txt`), so a model
 * made from a model (a distilled branch, a compressed classifier) names its files like its source,
 * and a trunk identity is the same for a checkpoint's `vocab.txt` and a bundle's copy. With `bytes`
 * the hex must be the start of their SHA-256 (a file merely named like that keeps its name).
 */
export function logicalName(file: string, bytes?: Uint8Array): string {
  const ext = extname(file);
  const m = /^(.*)-([0-9a-f]{12})$/.exec(file.slice(0, file.length - ext.length));
  if (!m) return file;
  return bytes === undefined || hashOf([bytes]).startsWith(m[2]!) ? `${m[1]}${ext}` : file;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * After a commit: removes the files the previous manifest referred to that the new one does not,
 * content-addressed leftovers of killed saves (a known logical name with a hash the new manifest
 * does not use), and killed writers' temporary files. Nothing else in the folder is touched.
 */
async function collectGarbage(dir: string, now: BundleManifest, previous: Partial<BundleManifest> | undefined): Promise<void> {
  const keep = new Set(Object.keys(now.files));
  const logical = new Set([...Object.keys(now.names ?? {}), ...Object.keys(previous?.names ?? {}), ...Object.keys(previous?.files ?? {})]);
  const patterns = [...logical].map((name) => {
    const ext = extname(name);
    return new RegExp(`^${escapeRe(name.slice(0, name.length - ext.length))}-[0-9a-f]{12}${escapeRe(ext)}$`);
  });
  const old = new Set(typeof previous?.files === 'object' && previous.files !== null ? Object.keys(previous.files) : []);
  for (const f of await readdir(dir)) {
    if (keep.has(f) || f === MANIFEST_FILE) continue;
    if (old.has(f) || patterns.some((re) => re.test(f))) await removeFile(join(dir, f));
  }
  await removeStaleTemps(dir);
}

/** The manifest in `dir` as it stands, or undefined when there is none or it does not parse. */
function readManifestQuietly(dir: string): Partial<BundleManifest> | undefined {
  try {
    const m = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as unknown;
    return m !== null && typeof m === 'object' && !Array.isArray(m) ? (m as Partial<BundleManifest>) : undefined;
  } catch {
    return undefined;
  }
}

/** True when `path` exists with exactly this size and SHA-256. */
function sameFile(path: string, want: FileEntry): boolean {
  if (!existsSync(path)) return false;
  const got = hashFile(path);
  return got.bytes === want.bytes && got.sha256 === want.sha256;
}

/** Size and SHA-256 of a file, read in chunks (a model's weights need not be in memory twice). */
function hashFile(path: string): { bytes: number; sha256: string } {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  const chunk = Buffer.allocUnsafe(1 << 22);
  let bytes = 0;
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, bytes);
      if (n === 0) break;
      h.update(chunk.subarray(0, n));
      bytes += n;
    }
  } finally {
    closeSync(fd);
  }
  return { bytes, sha256: h.digest('hex') };
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
  if (m.names !== undefined) {
    if (typeof m.names !== 'object' || m.names === null) bad('names', 'expected an object of logical name -> file');
    for (const [name, stored] of Object.entries(m.names!)) if (typeof stored !== 'string' || !(stored in m.files!)) bad(`names.${name}`, 'not one of the listed files');
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
