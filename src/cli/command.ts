/**
 * The shape every CLI command has: a name, a one-line summary, its options (all defaults here, in
 * one place, like fastText's Args) and a run function. Parsing is Node's own util.parseArgs;
 * commands only parse arguments and call into the library.
 */
import { parseArgs } from 'node:util';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  default?: string | boolean;
  multiple?: boolean;
  /** One line for --help. */
  help: string;
}

export interface Command {
  name: string;
  summary: string;
  /** Usage line after `slimtext NAME`, e.g. `--vocab PATH [--cased]`. */
  usage: string;
  options: Record<string, OptionSpec>;
  /** Positional arguments are allowed (e.g. `data stats PATH`). */
  positionals?: boolean;
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
  const entries = Object.entries(cmd.options);
  const width = Math.max(...entries.map(([k, o]) => k.length + (o.type === 'string' ? 6 : 0)), 6) + 4;
  for (const [name, o] of entries) {
    const flag = `--${name}${o.type === 'string' ? ' VALUE' : ''}`;
    const def = o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : '';
    lines.push(`  ${flag.padEnd(width)}${o.help}${def}`);
  }
  lines.push(`  ${'--help'.padEnd(width)}show this help`);
  return lines.join('\n');
}

export function parseCommandArgs(cmd: Command, argv: string[]): ParsedArgs | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries(cmd.options)) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.default !== undefined ? { default: o.default } : {}), ...(o.multiple ? { multiple: true } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options: options as never, allowPositionals: cmd.positionals ?? false, strict: true });
    return { values: values as ParsedArgs['values'], positionals };
  } catch (e) {
    throw new UsageError(`${cmd.name}: ${(e as Error).message} (see slimtext ${cmd.name} --help)`);
  }
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
