/**
 * `slimtext <command>`: dispatches to one file per command. Commands load lazily so that
 * `slimtext tokenize` does not pay for the engine's start-up.
 */
import { readFileSync } from 'node:fs';
import { type Command, UsageError, helpText, parseCommandArgs } from './command.js';

/** name -> loader. A command with subcommands (`data stats`) is named `data stats` here. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  'bench engine': async () => (await import('./benchEngine.js')).command,
  tokenize: async () => (await import('./tokenize.js')).command,
  'data stats': async () => (await import('./dataStats.js')).command,
  'ngrams build': async () => (await import('./ngramsBuild.js')).command,
  encode: async () => (await import('./encode.js')).command,
  finetune: async () => (await import('./finetune.js')).command,
  eval: async () => (await import('./eval.js')).command,
  predict: async () => (await import('./predict.js')).command,
  label: async () => (await import('./label.js')).command,
  worker: async () => (await import('./worker.js')).command,
  distill: async () => (await import('./distill.js')).command,
  demo: async () => (await import('./demo.js')).command,
  merge: async () => (await import('./merge.js')).command,
  compress: async () => (await import('./compress.js')).command,
  inspect: async () => (await import('./inspect.js')).command,
  serve: async () => (await import('./serve.js')).command,
  'bench model': async () => (await import('./benchModel.js')).command,
  report: async () => (await import('./report.js')).command,
  export: async () => (await import('./export.js')).command,
};

async function topHelp(): Promise<string> {
  const names = Object.keys(COMMANDS).sort();
  const width = Math.max(...names.map((n) => n.length)) + 2;
  const lines = await Promise.all(names.map(async (n) => `  ${n.padEnd(width)}${firstSentence((await COMMANDS[n]!()).summary)}`));
  return [
    'usage: slimtext <command> [options]', '', 'commands:', ...lines, '',
    'Run `slimtext help <command>` or `slimtext <command> --help` for its options and examples;',
    '`slimtext --version` for the version. Exit codes: 0 success, 1 failure, 2 usage error, 130 interrupted (resume with --resume).',
  ].join('\n');
}

/** `slimtext bench --help`: the subcommands of a group. */
async function groupHelp(group: string, subs: string[]): Promise<string> {
  const width = Math.max(...subs.map((n) => n.length)) + 2;
  const lines = await Promise.all(subs.map(async (n) => `  ${n.padEnd(width)}${firstSentence((await COMMANDS[n]!()).summary)}`));
  return [`usage: slimtext ${group} <subcommand> [options]`, '', 'subcommands:', ...lines, '', `Run \`slimtext ${group} <subcommand> --help\` for its options.`].join('\n');
}

function firstSentence(s: string): string {
  const i = s.search(/[.:](\s|$)/);
  return i < 0 ? s : s.slice(0, i);
}

/** The package version, read from package.json next to dist/ (no import attributes needed). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version' || argv[0] === '-V' || argv[0] === 'version') {
    console.log(`slimtext ${version()}`);
    return 0;
  }
  if (argv.length === 0) {
    console.error(await topHelp());
    return 2;
  }
  if (argv[0] === '--help' || argv[0] === '-h' || (argv[0] === 'help' && argv.length === 1)) {
    console.log(await topHelp());
    return 0;
  }
  // `slimtext help CMD` is `slimtext CMD --help`.
  if (argv[0] === 'help') argv = [...argv.slice(1), '--help'];
  const two = argv.length >= 2 ? `${argv[0]} ${argv[1]}` : '';
  const name = two in COMMANDS ? two : argv[0]!;
  const loader = COMMANDS[name];
  if (!loader) {
    const subs = Object.keys(COMMANDS).filter((n) => n.startsWith(`${argv[0]} `));
    if (subs.length && (argv[1] === '--help' || argv[1] === '-h')) {
      console.log(await groupHelp(argv[0]!, subs));
      return 0;
    }
    if (subs.length) console.error(`slimtext ${argv[0]}: expected a subcommand: ${subs.map((n) => n.split(' ')[1]).join(', ')}${argv[1] ? ` (got '${argv[1]}')` : ''}; see slimtext ${argv[0]} --help`);
    else console.error(`slimtext: unknown command '${argv[0]}' (see slimtext --help)`);
    return 2;
  }
  const cmd = await loader();
  const rest = argv.slice(name.split(' ').length);
  try {
    const parsed = parseCommandArgs(cmd, rest);
    if (parsed === 'help') {
      console.log(helpText(cmd));
      return 0;
    }
    return await cmd.run(parsed);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`slimtext ${e.message}`);
      return 2;
    }
    if (e instanceof Error && (e as Error & { userFacing?: boolean }).userFacing) {
      console.error(`slimtext ${name}: ${e.message}`);
      return (e as Error & { exitCode?: number }).exitCode ?? 1;
    }
    throw e;
  }
}
