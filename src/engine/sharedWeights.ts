/**
 * Read-only weights shared by the threads of one process, so that N server workers holding one
 * model cost its weights once, not N times (`slimtext serve`: src/serve/worker.ts).
 *
 *   const { value, weights } = await withSharedWeights(undefined, () => load());   // first thread
 *   // hand `weights` (SharedArrayBuffer-backed arrays: postMessage shares them, no copy) to the others:
 *   const { value } = await withSharedWeights(weights, () => load());             // other threads
 *
 * Inside a scope, the loaders name the big arrays they make: a weights file's tensors
 * (`sharedFileArray`: named by the content-named file and the tensor) and arrays derived from shared
 * ones (`sharedDerivedArray`: named by what they are and the names of their sources, e.g. FastBert's
 * packed copy of a layer's weight). The first thread allocates them in SharedArrayBuffers and fills
 * them; a thread given that record gets the very same arrays back instead and never writes to them.
 * A derived array is shared only when every source is itself shared (the same memory), so a name
 * can never stand for different numbers. Outside a scope nothing changes: plain arrays, filled.
 *
 * By hand because this is the engine's own storage: the kernels (native N-API and wasm) take
 * SharedArrayBuffer-backed typed arrays as they take any other (tested in test/engine/).
 * One scope at a time per thread (the server's workers load one model at a time).
 */

/** The typed arrays a weight can be. */
export type WeightArray = Float32Array | Int32Array | Uint8Array | Int8Array;
type WeightArrayType = { new (length: number): WeightArray; new (buffer: ArrayBufferLike): WeightArray; readonly BYTES_PER_ELEMENT: number; readonly name: string };

/** Name -> shared array, as one thread's load made them (postMessage-able: SharedArrayBuffers are shared, not copied). */
export type SharedWeights = Map<string, WeightArray>;

export interface SharingStats {
  /** Bytes of arrays this load took from the record it was given. */
  adoptedBytes: number;
  /** Bytes of shareable arrays this load made itself (the first load: all; another: what the record lacked). */
  madeBytes: number;
}

interface Scope {
  from: SharedWeights | undefined;
  record: SharedWeights;
  names: WeakMap<WeightArray, string>;
  stats: SharingStats;
}

let scope: Scope | undefined;

/**
 * Runs `load` with weight sharing on: arrays named in `from` (another thread's record) are taken from
 * there, the rest made shared. Resolves with load's value, the record of every shared array the
 * load used (hand it to the next thread) and how many bytes were taken vs made.
 */
export async function withSharedWeights<T>(from: SharedWeights | undefined, load: () => Promise<T>): Promise<{ value: T; weights: SharedWeights; stats: SharingStats }> {
  if (scope) throw new Error('withSharedWeights: a sharing scope is already open in this thread');
  const s: Scope = { from, record: new Map(), names: new WeakMap(), stats: { adoptedBytes: 0, madeBytes: 0 } };
  scope = s;
  try {
    const value = await load();
    return { value, weights: s.record, stats: s.stats };
  } finally {
    scope = undefined;
  }
}

/** True when `a` is a shared weight of the open scope (so it is read-only: use it, do not copy or write it). */
export function isSharedWeight(a: WeightArray): boolean {
  return scope?.names.has(a) ?? false;
}

/** True inside a sharing scope. */
export function sharingWeights(): boolean {
  return scope !== undefined;
}

/**
 * A weights file's tensor: outside a scope `data` itself; inside, the shared array named
 * `file/tensor` (`file` must name the content, e.g. the file's SHA-256). `data` already in shared
 * memory (a file read into a SharedArrayBuffer) becomes that array as it is.
 */
export function sharedFileArray<T extends WeightArray>(file: string, tensor: string, data: T): T {
  if (!scope) return data;
  return take(scope, `${file}/${tensor}`, data.constructor as WeightArrayType, data.length, (a) => a.set(data), data.buffer instanceof SharedArrayBuffer ? data : undefined) as T;
}

/**
 * Inside a scope given another thread's record: that load's arrays of a weights file's tensors
 * (named as sharedFileArray names them), when it has every one with the type and length wanted, so
 * the file's data need not be read again; else undefined.
 */
export function recordedFileArrays(file: string, tensors: readonly { name: string; type: 'float' | 'int'; length: number }[]): WeightArray[] | undefined {
  const s = scope;
  if (!s?.from) return undefined;
  const out: WeightArray[] = [];
  for (const t of tensors) {
    const a = s.from.get(`${file}/${t.name}`);
    if (!a || a.length !== t.length || a.constructor !== (t.type === 'float' ? Float32Array : Int32Array)) return undefined;
    out.push(a);
  }
  return tensors.map((t, i) => take(s, `${file}/${t.name}`, out[i]!.constructor as WeightArrayType, t.length, () => undefined));
}

/**
 * An array computed from other arrays (`fill` writes all of it): shared under `what(source names)`
 * when every source is shared, else a plain array of this thread's.
 */
export function sharedDerivedArray<T extends WeightArray>(what: string, sources: readonly WeightArray[], type: { new (length: number): T }, length: number, fill: (a: T) => void): T {
  const s = scope;
  const names = s ? sources.map((x) => s.names.get(x)) : [];
  if (!s || names.some((n) => n === undefined)) {
    const a = new type(length);
    fill(a);
    return a;
  }
  return take(s, `${what}(${names.join(',')})`, type as unknown as WeightArrayType, length, fill as (a: WeightArray) => void) as T;
}

/** The shared array `name`: the record's, else `ready` (already in shared memory), else a new one filled. */
function take(s: Scope, name: string, type: WeightArrayType, length: number, fill: (a: WeightArray) => void, ready?: WeightArray): WeightArray {
  const bytes = length * type.BYTES_PER_ELEMENT;
  const had = s.from?.get(name) ?? s.record.get(name);
  let a: WeightArray;
  if (had && had.constructor === type && had.length === length) {
    a = had;
    if (s.from?.get(name) === had && !s.record.has(name)) s.stats.adoptedBytes += bytes;
  } else {
    a = ready ?? new type(new SharedArrayBuffer(bytes));
    if (!ready) fill(a);
    s.stats.madeBytes += bytes;
  }
  s.record.set(name, a);
  s.names.set(a, name);
  return a;
}
