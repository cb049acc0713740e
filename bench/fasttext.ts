/**
 * Debian `fasttext` as a baseline for the distillation benches: its text-classification tutorial
 * recipe (lr 1.0, 25 epochs, dim 100, word bigrams) on exactly the rows a student or teacher saw.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Example } from '../src/data/index.js';
import { bertWords } from '../src/text/bertNormalizer.js';

export function ensureFasttext(log: (l: string) => void): string | undefined {
  const which = () => spawnSync('sh', ['-c', 'command -v fasttext'], { encoding: 'utf8' }).stdout.trim();
  if (which()) return which();
  log('fasttext not found: installing the Debian package (apt-get install -y fasttext)');
  let r = spawnSync('apt-get', ['install', '-y', 'fasttext'], { encoding: 'utf8' });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { encoding: 'utf8' });
    r = spawnSync('apt-get', ['install', '-y', 'fasttext'], { encoding: 'utf8' });
  }
  return which() || undefined;
}

/** fastText's tutorial recipe on the same rows: lowercased words (BERT's split), word bigrams. */
export function runFasttext(bin: string, dir: string, train: Example[], test: Example[], o: { lr: number; epochs: number; threads: number }): { accuracy: number; train_seconds: number } | { error: string } {
  const line = (e: Example) => `__label__${e.label!.replace(/\s+/g, '_')} ${bertWords(e.text, { lowercase: true }).join(' ')}`;
  writeFileSync(join(dir, 'ft-train.txt'), train.map(line).join('\n') + '\n');
  writeFileSync(join(dir, 'ft-test.txt'), test.map(line).join('\n') + '\n');
  const t0 = performance.now();
  const tr = spawnSync(bin, ['supervised', '-input', join(dir, 'ft-train.txt'), '-output', join(dir, 'ft-model'), '-lr', String(o.lr), '-epoch', String(o.epochs), '-dim', '100', '-wordNgrams', '2', '-thread', String(o.threads), '-verbose', '0'], { encoding: 'utf8' });
  const secs = (performance.now() - t0) / 1000;
  if (tr.status !== 0) return { error: tr.stderr.trim().split('\n').pop() ?? 'fasttext failed' };
  const te = spawnSync(bin, ['test', join(dir, 'ft-model.bin'), join(dir, 'ft-test.txt')], { encoding: 'utf8' });
  const p = /P@1\s+([\d.]+)/.exec(te.stdout);
  return p ? { accuracy: Number(p[1]), train_seconds: Math.round(secs * 100) / 100 } : { error: `fasttext test: ${te.stdout}${te.stderr}` };
}
