import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NgramVocab } from '../../src/text/ngramVocab.js';
import { repoRoot, sharedPath } from '../helpers.js';

/** Runs the CLI the way this test runs: from source under tsx, or compiled (bin/slimtext.js). */
function slimtext(args: string[], input?: string | Buffer) {
  const fromSource = import.meta.url.endsWith('.ts');
  const argv = fromSource ? ['--import', 'tsx', join(repoRoot, 'scripts', 'dev-cli.ts'), ...args] : [join(repoRoot, 'bin', 'slimtext.js'), ...args];
  return spawnSync(process.execPath, argv, { input, encoding: 'utf8', cwd: repoRoot });
}

const ckpt = sharedPath('models/bert-l4-h128-mlm');
const dir = mkdtempSync(join(tmpdir(), 'slimtext-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('tokenize: one line of ids per input line, [CLS] ... [SEP]', { skip: ckpt.skip }, () => {
  const r = slimtext(['tokenize', '--vocab', ckpt.path!], 'I hate this so much!\n\nHello, world\n');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '101 1045 5223 2023 2061 2172 999 102\n101 102\n101 7592 1010 2088 102\n');
});

test('tokenize: --max-length, --pairs and --tokens', { skip: ckpt.skip }, () => {
  const vocab = join(ckpt.path!, 'vocab.txt');
  const r = slimtext(['tokenize', '--vocab', vocab, '--max-length', '4', '--tokens'], 'I hate this so much!');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '[CLS] i hate [SEP]\n');
  const p = slimtext(['tokenize', '--vocab', vocab, '--pairs'], 'hello\tworld\n');
  assert.equal(p.stdout, '101 7592 102 2088 102\n');
  const bad = slimtext(['tokenize', '--vocab', vocab, '--pairs'], 'no tab here\n');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /<stdin>:1.*TEXT<TAB>PAIR/);
});

test('tokenize: invalid UTF-8 on stdin fails naming the line; a missing vocab fails naming it', { skip: ckpt.skip }, () => {
  const r = slimtext(['tokenize', '--vocab', ckpt.path!], Buffer.from([0x6f, 0x6b, 0x0a, 0xff, 0x0a]));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /<stdin>:2: invalid UTF-8/);
  const m = slimtext(['tokenize', '--vocab', join(dir, 'nope.txt')], 'x');
  assert.equal(m.status, 1);
  assert.match(m.stderr, /nope\.txt/);
  assert.equal(slimtext(['tokenize'], 'x').status, 2);
});

test('ngrams build: writes a vocabulary and reports lines/s and peak memory as JSON', () => {
  const corpus = join(dir, 'c.txt');
  writeFileSync(corpus, 'the cat sat\nthe cat ran\nA dog sat!\n');
  const out = join(dir, 'v.ngrams');
  const r = slimtext(['ngrams', 'build', '--corpus', corpus, '--max-n', '2', '--max-vocab', '4', '--out', out, '--workers', '0', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, number>;
  assert.equal(j.vocab_size, 4);
  assert.equal(j.lines, 3);
  assert.ok(j.lines_per_s! > 0 && j.peak_rss_mb! > 10);
  const v = NgramVocab.load(out);
  // counts: the 2, cat 2, sat 2, the cat 2, then ties at 1; order count desc then string.
  assert.deepEqual(v.ngrams, ['cat', 'sat', 'the', 'the cat']);
  assert.deepEqual(Array.from(v.counts), [2, 2, 2, 2]);
  const refused = slimtext(['ngrams', 'build', '--corpus', corpus, '--max-vocab', '100', '--out', out, '--workers', '0']);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /v\.ngrams: already exists; pass --overwrite/);
  const more = slimtext(['ngrams', 'build', '--corpus', corpus, corpus, '--max-vocab', '100', '--out', out, '--workers', '0', '--overwrite']);
  assert.equal(more.status, 0, more.stderr);
  assert.match(more.stdout, /from 6 lines/);
  assert.equal(slimtext(['ngrams', 'build', '--max-vocab', '4', '--out', out]).status, 2);
  assert.equal(slimtext(['ngrams', 'build', '--corpus', corpus, '--max-vocab', '4', '--max-n', '5', '--out', out]).status, 2);
});
