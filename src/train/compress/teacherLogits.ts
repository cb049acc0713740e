/**
 * --teacher-logits for compress retrain / joint on a DAN student: the teacher logits of each
 * training text, found in a `slimtext label` file by text fingerprint (how distill pairs rows with
 * texts), after checking the file's label set against the student's and its teacher against the
 * one the student was distilled from (train/teacherLogits.ts, the check distill --teacher uses).
 */
import { InputError } from '../../errors.js';
import { readLogitsFile, textFingerprint } from '../../io/logitsFile.js';
import type { Example } from '../../data/index.js';
import { checkSameTeacher } from '../teacherLogits.js';

/**
 * (train.length x labels.length) teacher logits, row i for train[i]. `studentRecipe` is the
 * student's manifest recipe: the teacher it records (its own, or its source's for a model
 * compressed before) must be the one that made the file.
 */
export function teacherLogitsForTrain(path: string, train: readonly Example[], trainFile: string, labels: readonly string[], studentRecipe: unknown, modelDir: string): Float32Array {
  const data = readLogitsFile(path);
  const flag = `--teacher-logits ${path}`;
  const have = data.header.labels;
  if (have.length !== labels.length || have.some((l, i) => l !== labels[i])) {
    throw new InputError(path, undefined, 'labels', `${flag} holds logits over ${have.length} labels (${have.slice(0, 5).join(', ')}${have.length > 5 ? ', ...' : ''}), but the student ${modelDir} predicts ${labels.length} (${labels.slice(0, 5).join(', ')}${labels.length > 5 ? ', ...' : ''}) in that order: the logits must come from the student's teacher`);
  }
  const teacher = recordedTeacher(studentRecipe);
  if (teacher) checkSameTeacher(path, data.header.teacher, teacher.identity, `the teacher ${modelDir} was distilled from (${String(teacher.dir ?? 'unknown folder')})`);
  const C = labels.length;
  const row = new Map<string, number>();
  for (let r = 0; r < data.commit.rows; r++) row.set(`${data.fingerprints[2 * r]}:${data.fingerprints[2 * r + 1]}`, r);
  const out = new Float32Array(train.length * C);
  let missing = 0;
  let first: Example | undefined;
  train.forEach((e, i) => {
    const [a, b] = textFingerprint(e.text);
    const r = row.get(`${a}:${b}`);
    if (r === undefined) {
      missing++;
      first ??= e;
      return;
    }
    out.set(data.logits.subarray(r * C, (r + 1) * C), i * C);
  });
  if (first) {
    throw new InputError(trainFile, first.line, 'text', `${missing} of the ${train.length} training texts have no row in ${flag} (matched by text fingerprint; first: '${first.text.slice(0, 60)}'): label --train with the teacher (slimtext label --corpus ${trainFile})${data.commit.finished ? '' : ', and finish that run with --resume'}`);
  }
  return out;
}

/** The teacher info a DAN's recipe records (distill), or its source's (a model compressed before). */
function recordedTeacher(recipe: unknown): Record<string, unknown> | undefined {
  const r = recipe as { teacher?: Record<string, unknown> | null; source_recipe?: unknown } | undefined;
  if (r?.teacher) return r.teacher;
  return r?.source_recipe ? recordedTeacher(r.source_recipe) : undefined;
}
