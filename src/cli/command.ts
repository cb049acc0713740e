/**
 * The shape every CLI command has: a name, a one-line summary, its options (all defaults here, in
 * one place, like fastText's Args) and a run function; commands only parse arguments and call
 * into the library. Every rule of the command line lives in this file and main.ts, so every
 * command (and any new one written against `Command`) gets them by construction: `--help` with
 * examples and N/PATH/DIR placeholders, negative numbers as option values, one exit code (2, with
 * one line on stderr) for every usage error, and the number checks below (`whole`, `real`).
 *
 * Parsing stays on Node's util.parseArgs. We weighed commander, citty and clipanion: each would
 * fix the same defects (negative values, help, exit codes) only through its own configuration
 * (commander: exitOverride, allowNegativeNumbers-style handling, per-command help hooks), and
 * every command here is already declared as data behind this one interface, so the class of
 * defect is removed here, once, in about forty lines, without a dependency or a rewrite of the
 * command files that other work builds on.
 */
import { parseArgs } from 'node:util';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  default?: string | boolean;
  multiple?: boolean;
  /** One line for --help. */
  help: string;
  /** The value's name in --help (default: N for numbers, PATH for paths, else the option's name in capitals). */
  placeholder?: string;
}

export interface Command {
  name: string;
  summary: string;
  /** Usage line after `slimtext NAME`, e.g. `--vocab PATH [--cased]`. */
  usage: string;
  options: Record<string, OptionSpec>;
  /** Positional arguments are allowed (e.g. `data stats PATH`). */
  positionals?: boolean;
  /** Example command lines (after `slimtext `) shown by --help. */
  examples?: string[];
  /** Returns the process exit code. */
  run(args: ParsedArgs): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** A user error: printed as one line, exit code 2, no stack trace. */
export class UsageError extends Error {}

export function helpText(cmd: Command): string {
  const lines = [`usage: slimtext ${cmd.name} ${cmd.usage}`.trimEnd(), '', cmd.summary, '', 'options:'];
  const entries = Object.entries(cmd.options).map(([name, o]) => [`--${name}${o.short ? `, -${o.short}` : ''}${o.type === 'string' ? ` ${placeholderOf(name, o)}` : ''}`, o] as const);
  const width = Math.max(...entries.map(([flag]) => flag.length), 9) + 2;
  for (const [flag, o] of entries) {
    const def = o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : '';
    lines.push(`  ${flag.padEnd(width)}${o.help}${def}`);
  }
  lines.push(`  ${'--help, -h'.padEnd(width)}show this help`);
  if (cmd.examples?.length) lines.push('', 'examples:', ...cmd.examples.map((e) => `  slimtext ${e}`));
  return lines.join('\n');
}

/** The value's name in help: N for numbers, PATH for paths, else the option's name in capitals. */
export function placeholderOf(name: string, o: OptionSpec): string {
  if (o.placeholder) return o.placeholder;
  if (typeof o.default === 'string' && o.default !== '' && Number.isFinite(Number(o.default))) return 'N';
  if (/(^|-)(out|model|teacher|train|dev|data|vocab|corpus|logits|file|path|dir)$/.test(name)) return 'PATH';
  if (/(^|-)(size|epochs|seed|threads|workers|reps|max|min|rows|texts|examples|dim|hidden|buckets|length|every|k)$/.test(name) || /^max-|^min-/.test(name)) return 'N';
  return name.split('-').pop()!.toUpperCase();
}

export function parseCommandArgs(cmd: Command, argv: string[]): ParsedArgs | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries(cmd.options)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.default !== undefined ? { default: o.default } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args: joinNegativeValues(cmd, argv), options: options as never, allowPositionals: cmd.positionals ?? false, strict: true });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (e) {
    throw new UsageError(`${cmd.name}: ${(e as Error).message.replace(/\. To specify an option argument.*$/s, '')} (see slimtext ${cmd.name} --help)`);
  }
}

/**
 * `--epochs -1` -> `--epochs=-1`: parseArgs reads a value that starts with a dash as a missing
 * value ("ambiguous"); a string option followed by a negative number takes it as its value, so
 * the command's own range check can speak.
 */
function joinNegativeValues(cmd: Command, argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.startsWith('--') ? a.slice(2) : a.length === 2 && a[0] === '-' ? Object.keys(cmd.options).find((k) => cmd.options[k]!.short === a[1]) : undefined;
    const next = argv[i + 1];
    if (name !== undefined && cmd.options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d|Infinity$|inf$)/i.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** Typed accessors so commands read options without casts. */
export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}
export function req(args: ParsedArgs, cmdName: string, name: string): string {
  const v = str(args, name);
  if (v === undefined || v === '') throw new UsageError(`${cmdName}: --${name} is required (see slimtext ${cmdName} --help)`);
  return v;
}
export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}
export function num(args: ParsedArgs, cmdName: string, name: string): number | undefined {
  const v = str(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`${cmdName}: --${name} must be a number, got '${v}'`);
  return n;
}

/**
 * A whole-number option: undefined when absent, else an integer >= min (and <= max), or a usage
 * error naming the option and the range. The one check every command uses for counts.
 */
export function whole(args: ParsedArgs, cmdName: string, name: string, min: number, max = Infinity): number | undefined {
  const v = num(args, cmdName, name);
  if (v !== undefined && !(Number.isInteger(v) && v >= min && v <= max)) {
    throw new UsageError(`${cmdName}: --${name} must be a whole number ${max === Infinity ? `>= ${min}` : `from ${min} to ${max}`}, got ${str(args, name)}`);
  }
  return v;
}

/** A real-number option >= min (or > min when `exclusive`): the check for rates and weights. */
export function real(args: ParsedArgs, cmdName: string, name: string, min: number, exclusive = false): number | undefined {
  const v = num(args, cmdName, name);
  if (v !== undefined && !(exclusive ? v > min : v >= min)) throw new UsageError(`${cmdName}: --${name} must be a number ${exclusive ? '>' : '>='} ${min}, got ${str(args, name)}`);
  return v;
}
