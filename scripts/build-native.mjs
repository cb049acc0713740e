#!/usr/bin/env node
// Builds the native backend (build/Release/slimtext_native.node) with node-gyp; run by npm's
// `install` script. It never fails the install: on any problem it prints one line saying why and
// that the portable wasm backend will be used, and exits 0. The full compiler output goes to
// build/native-build.log. SLIMTEXT_SKIP_NATIVE=1 skips the build.
//
// node-gyp `configure` + `build` rather than `rebuild`: rebuild starts with `clean`, which deletes
// the whole build/ folder, including build/wasm from the wasm backend's build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(root, 'build', 'Release', 'slimtext_native.node');
const logFile = join(root, 'build', 'native-build.log');
const log = [];

function giveUp(reason, keepOld = false) {
  // An addon left from an earlier build would load and run stale code; the line below promises wasm.
  if (!keepOld) rmSync(addon, { force: true });
  try {
    mkdirSync(dirname(logFile), { recursive: true });
    writeFileSync(logFile, log.join('\n'));
  } catch {
    // the log is a convenience; the one line below is what matters
  }
  console.log(`slimtext: native backend not built (${reason}); the portable wasm backend will be used`);
  process.exit(0);
}

/** How to run node-gyp: on PATH inside npm scripts, else the copy bundled with npm. */
function nodeGyp() {
  const onPath = spawnSync('node-gyp', ['--version'], { encoding: 'utf8' });
  if (onPath.status === 0) return { cmd: 'node-gyp', pre: [] };
  const candidates = [];
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const prefix = dirname(dirname(process.execPath));
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  for (const c of candidates) if (existsSync(c)) return { cmd: process.execPath, pre: [c] };
  return { cmd: 'npx', pre: ['--no-install', 'node-gyp'] };
}

/** Node's own headers when they sit beside the node binary, so node-gyp need not download them. */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

/** The first line of the build output that says what went wrong, shortened. */
function reasonFrom(out) {
  if (/cannot find -lopenblas|cblas\.h: No such file/.test(out)) return 'OpenBLAS not found: install libopenblas-dev';
  if (/gyp ERR! .*(find Python|Python is not set)/i.test(out)) return 'node-gyp found no Python';
  if (/not found: make|make: not found|No such file or directory.*\b(cc|gcc|make)\b/.test(out)) return 'no C compiler or make';
  const line = out.split('\n').find((l) => /error[: ]/i.test(l) && !/^gyp info/.test(l));
  return (line ?? 'node-gyp failed').trim().replace(/\s+/g, ' ').slice(0, 160);
}

function run(args) {
  const { cmd, pre } = nodeGyp();
  const r = spawnSync(cmd, [...pre, ...args], { cwd: root, encoding: 'utf8', timeout: 600_000, env: process.env });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  log.push(`$ ${[cmd, ...pre, ...args].join(' ')}`, out);
  if (r.error) giveUp(`could not run node-gyp: ${r.error.message}`);
  if (r.status !== 0) giveUp(reasonFrom(out));
}

if (process.env.SLIMTEXT_SKIP_NATIVE === '1') giveUp('SLIMTEXT_SKIP_NATIVE=1', true);
if (process.platform === 'win32') giveUp('the native build supports Linux and macOS only');

run(['configure', ...nodedirArgs()]);
run(['build', '--jobs=max']);
if (!existsSync(addon)) giveUp(`node-gyp finished but ${addon} is missing`);
// Loading it here catches a missing shared library now rather than at first use.
const check = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addon)})`], { encoding: 'utf8' });
if (check.status !== 0) {
  log.push(check.stderr ?? '');
  giveUp(`built, but it does not load: ${(check.stderr ?? '').split('\n').find((l) => /Error/.test(l)) ?? 'unknown error'}`);
}
mkdirSync(dirname(logFile), { recursive: true });
writeFileSync(logFile, log.join('\n'));
console.log(`slimtext: native backend built (${addon})`);
