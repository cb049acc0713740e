/**
 * What every technique that learns from a teacher's logits file shares (distill's DAN students,
 * compress's retrain / joint with --teacher-logits): the distillation loss, and the checks that a
 * logits file was made by the expected teacher. Moved down from train/distill/ so that compress
 * uses the same loss and check without importing distill's internals.
 */
import { Tensor, add, crossEntropy, getBackend, klDiv, scale } from '../engine/index.js';
import { InputError } from '../errors.js';
import { modelIdentity, readBundle } from '../io/bundle.js';

/**
 * KL(teacher || student) on softened distributions (x T^2, engine klDiv), plus `hard.weight` x
 * cross-entropy of `hard.student` on gold labels when given (the rows may differ from the soft ones).
 */
export function distillLoss(student: Tensor, teacher: Float32Array, temperature: number, hard?: { student: Tensor; labels: Int32Array; weight: number }): Tensor {
  const loss = klDiv(student, new Tensor(teacher, [...student.shape]), { temperature });
  return hard && hard.weight > 0 ? add(loss, scale(crossEntropy(hard.student, hard.labels), hard.weight)) : loss;
}

/** Rows of an (n x C) matrix of logits, gathered by a kernel. */
export function gatherRows(m: Float32Array, C: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * C);
  getBackend().gather(rows.length, C, m.length / C, m, rows, out);
  return out;
}

/**
 * Refuses logits made by another teacher: `expected` is the identity of the teacher named now,
 * `recorded` the header's teacher. Names the first field that differs.
 */
export function checkSameTeacher(path: string, recorded: Record<string, unknown>, expected: unknown, named: string): void {
  const had = recorded.identity as Record<string, unknown> | undefined;
  if (expected === undefined && had === undefined) return;
  if (had === undefined) {
    throw new InputError(path, undefined, 'teacher', `records no teacher identity (written by an older slimtext), so it cannot be shown to come from ${named}; label again with --overwrite`);
  }
  const want = (expected ?? {}) as Record<string, unknown>;
  const differs = Object.keys({ ...had, ...want }).find((k) => had[k] !== want[k]);
  if (differs) {
    const what = differs.startsWith('weights') ? 'weights' : differs.startsWith('tokenizer') ? 'tokenizer' : 'architecture or labels';
    throw new InputError(path, undefined, 'teacher', `was labelled by another teacher (${String(recorded.dir ?? 'unknown folder')}; its ${what} differ from ${named}'s): refusing to mix two teachers' logits`);
  }
}

/** Checks that the logits file `path` (header teacher `recorded`) was made by the model in `dir`. */
export async function checkLogitsTeacher(path: string, recorded: Record<string, unknown>, dir: string): Promise<void> {
  const { manifest } = await readBundle(dir);
  checkSameTeacher(path, recorded, modelIdentity(manifest), `--teacher ${dir}`);
}
