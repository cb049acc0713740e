/**
 * The served models by name, each at a current version. Loading puts a version into every worker;
 * a reload loads the new version worker by worker (a loading worker takes no batches, the others
 * keep serving), then switches the name to it between two batches and frees the old version
 * (batches already sent for it run first). A failed reload leaves the old version serving.
 */
import { resolve } from 'node:path';
import { SlimtextError } from '../errors.js';
import type { ModelVersions } from './batcher.js';
import type { ModelSpec } from './options.js';
import type { ModelInfo } from './servedModel.js';
import type { Loaded, WorkerPool } from './workerPool.js';

export interface ServedEntry {
  name: string;
  dir: string;
  /** 1 at start, +1 per successful reload. */
  version: number;
  key: string;
  info: ModelInfo;
  loadedAt: string;
  /**
   * Bytes of weights the workers share (one copy for all), and the most any other worker had to
   * make for itself (0 when sharing worked); both 0 when sharing is off.
   */
  weights: { sharedBytes: number; ownBytes: number };
}

export class ModelRegistry implements ModelVersions {
  private readonly entries = new Map<string, ServedEntry>();
  /** One reload at a time (each already spreads over the workers). */
  private reloading: Promise<unknown> = Promise.resolve();

  constructor(private readonly pool: WorkerPool, private readonly maxTopK: number) {}

  get(name: string): ServedEntry | undefined {
    return this.entries.get(name);
  }

  list(): ServedEntry[] {
    return [...this.entries.values()];
  }

  currentKey(name: string): string {
    const e = this.entries.get(name);
    if (!e) throw new Error(`no model named ${name}`);
    return e.key;
  }

  /** First load of every model into every worker at once. */
  async loadAll(specs: readonly ModelSpec[]): Promise<void> {
    await Promise.all(
      specs.map(async (s) => {
        const dir = resolve(s.dir);
        const key = `${s.name}@1`;
        const loads = await this.loadEverywhere(key, dir).catch((e: Error) => {
          throw new SlimtextError(`model '${s.name}' (${dir}): ${e.message}`);
        });
        this.pool.hold(key, dir, this.maxTopK, loads[0]!.weights);
        this.entries.set(s.name, { name: s.name, dir, version: 1, key, info: loads[0]!.info, loadedAt: new Date().toISOString(), weights: weightsOf(loads) });
      }),
    );
  }

  /** First load: one worker makes the (shared) weights, then the others load at once, taking them. */
  private async loadEverywhere(key: string, dir: string): Promise<Loaded[]> {
    const [first, ...rest] = this.pool.workers;
    const a = await this.pool.load(first!, key, dir, this.maxTopK);
    return [a, ...(await Promise.all(rest.map((w) => this.pool.load(w, key, dir, this.maxTopK, a.weights))))];
  }

  /** Loads `name` again (from `dir` when given, else from where it was); resolves with the new entry. */
  reload(name: string, dir?: string): Promise<ServedEntry> {
    const run = this.reloading.then(() => this.reloadNow(name, dir));
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async reloadNow(name: string, dir?: string): Promise<ServedEntry> {
    const old = this.entries.get(name);
    if (!old) throw new SlimtextError(`no model named '${name}' (serving: ${[...this.entries.keys()].join(', ')})`);
    const from = resolve(dir ?? old.dir);
    const version = old.version + 1;
    const key = `${name}@${version}`;
    const loads: Loaded[] = [];
    try {
      // Worker by worker, so the others keep serving; the first one's weights are shared with the rest.
      for (const w of this.pool.workers) loads.push(await this.pool.load(w, key, from, this.maxTopK, loads[0]?.weights));
    } catch (e) {
      this.pool.drop(key);
      throw new SlimtextError(`reload of '${name}' from ${from} failed, still serving version ${old.version}: ${(e as Error).message}`);
    }
    const entry: ServedEntry = { name, dir: from, version, key, info: loads[0]!.info, loadedAt: new Date().toISOString(), weights: weightsOf(loads) };
    this.pool.hold(key, from, this.maxTopK, loads[0]!.weights);
    this.entries.set(name, entry);
    this.pool.drop(old.key);
    return entry;
  }
}

function weightsOf(loads: readonly Loaded[]): ServedEntry['weights'] {
  return { sharedBytes: loads[0]!.stats?.madeBytes ?? 0, ownBytes: Math.max(0, ...loads.slice(1).map((l) => l.stats?.madeBytes ?? 0)) };
}
