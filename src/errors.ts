/**
 * Errors a user should read: the CLI prints their message as one line (no stack) and exits 1.
 * Everything else is a bug and keeps its stack.
 */
export class SlimtextError extends Error {
  readonly userFacing = true;
}

/**
 * An option value the library refuses (out of range, contradicting another, an unusable output
 * path): the command line is wrong, so the CLI exits 2 as for every usage error.
 */
export class OptionError extends SlimtextError {
  readonly exitCode = 2;
}

/** Bad input data: always names the file, the 1-based line (when there is one) and the field. */
export class InputError extends SlimtextError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly field: string | undefined,
    readonly reason: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}${field ? ` (field '${field}')` : ''}: ${reason}`);
  }
}

/** A numerical op got arguments it cannot work with (shapes, ids, NaN): names the op and shapes. */
export class OpError extends SlimtextError {
  constructor(op: string, reason: string) {
    super(`${op}: ${reason}`);
  }
}
