/**
 * `slimtext <command>`: dispatches to one file per command. Commands load lazily so that
 * `slimtext tokenize` does not pay for the engine's start-up.
 */
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
  distill: async () => (await import('./distill.js')).command,
  demo: async () => (await import('./demo.js')).command,
  compress: async () => (await import('./compress.js')).command,
  inspect: async () => (await import('./inspect.js')).command,
  export: async () => (await import('./export.js')).command,
};

async function topHelp(): Promise<string> {
  const names = Object.keys(COMMANDS).sort();
  const width = Math.max(...names.map((n) => n.length)) + 2;
  const lines = await Promise.all(names.map(async (n) => `  ${n.padEnd(width)}${firstSentence((await COMMANDS[n]!()).summary)}`));
  return ['usage: slimtext <command> [options]', '', 'commands:', ...lines, '', 'Run `slimtext <command> --help` for its options.'].join('\n');
}

function firstSentence(s: string): string {
  const i = s.search(/[.:](\s|$)/);
  return i < 0 ? s : s.slice(0, i);
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    console.log(await topHelp());
    return argv.length === 0 ? 2 : 0;
  }
  const two = argv.length >= 2 ? `${argv[0]} ${argv[1]}` : '';
  const name = two in COMMANDS ? two : argv[0]!;
  const loader = COMMANDS[name];
  if (!loader) {
    const subs = Object.keys(COMMANDS).filter((n) => n.startsWith(`${argv[0]} `));
    console.error(subs.length ? `slimtext ${argv[0]}: expected one of: ${subs.join(', ')}` : `slimtext: unknown command '${argv[0]}' (see slimtext --help)`);
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
      return 1;
    }
    throw e;
  }
}
