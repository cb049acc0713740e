/**
 * Starting a worker thread from a module that sits beside the caller, whether slimtext runs
 * compiled (dist/*.js) or from source under tsx (*.ts; used by `npx tsx --test` and
 * scripts/dev-cli.ts). Node 20 does not pass tsx's loader on to workers, so from source the worker
 * first registers tsx's ESM hooks and then imports the .ts module.
 */
import { Worker } from 'node:worker_threads';

/** A worker running `./name.js` (or `./name.ts` from source) relative to `callerUrl`. */
export function startModuleWorker(callerUrl: string, name: string, workerData?: unknown): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const url = new URL(`./${name}${fromSource ? '.ts' : '.js'}`, callerUrl);
  if (!fromSource) return new Worker(url, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
