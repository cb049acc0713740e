/** The synthetic teacher of the distillation tests, with a made-up identity for the queue. */
import type { Teacher } from '../../../../src/train/distill/teacher.js';
import type { TeacherId } from '../../../../src/train/distill/teacherId.js';
import { TEACHER_LABELS, syntheticTeacher, teacherLogits } from '../fixtures.js';

export const SYNTH_ID: TeacherId = { fingerprint: 'a'.repeat(64), labels: TEACHER_LABELS, info: { kind: 'synthetic' } };
export const OTHER_ID: TeacherId = { fingerprint: 'b'.repeat(64), labels: TEACHER_LABELS, info: { kind: 'other' } };

/** The synthetic teacher, blocking `ms` per call (a busy CPU: no lock renewal meanwhile). */
export function slowTeacher(ms: number): Teacher {
  return {
    ...syntheticTeacher,
    logits(texts) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      return teacherLogits(texts);
    },
  };
}
