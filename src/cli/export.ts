/**
 * `slimtext export --model DIR --format bundle|onnx --out FILE [--dtype f32|f16] [--overwrite]`:
 * argument parsing only; the work is io/slimBundle.ts (one-file bundle for slimtext/runtime) and
 * io/onnx/ (ONNX model for any ONNX Runtime host).
 */
import { type Command, UsageError, flag, req, str } from './command.js';
import { loadAnyModel, loadModelOrMultiTask } from '../models/anyModel.js';
import { writeMultiTaskBundle, writeSlimBundle } from '../io/slimBundle.js';

const NAME = 'export';

export const command: Command = {
  name: NAME,
  summary: 'Export a model folder as one compact bundle file for slimtext/runtime (Node and browsers), or as ONNX.',
  usage: '--model DIR --format bundle|onnx --out FILE [--dtype f32|f16] [--task NAME] [--overwrite] [--json]',
  options: {
    model: { type: 'string', help: 'a model folder written by slimtext finetune, distill or compress' },
    format: { type: 'string', default: 'bundle', help: "'bundle' (one .slim file for slimtext/runtime) or 'onnx' (transformer classifiers; tokenizer files written beside it)" },
    out: { type: 'string', help: 'the file to write' },
    dtype: { type: 'string', default: 'f32', help: "bundle: float tensors outside a compressed table as 'f32' or 'f16' (half the bytes)" },
    task: { type: 'string', help: 'multi-task models: export this one task as a single-task model (default for bundles: every task, one multi-task bundle)' },
    encoder: { type: 'boolean', help: 'onnx: export the encoder alone (last_hidden_state), without the classification head' },
    overwrite: { type: 'boolean', help: 'replace an existing --out' },
    json: { type: 'boolean', help: 'print a JSON summary' },
  },
  async run(args) {
    const format = str(args, 'format') ?? 'bundle';
    const dtype = str(args, 'dtype') ?? 'f32';
    if (dtype !== 'f32' && dtype !== 'f16') throw new UsageError(`${NAME}: --dtype must be f32 or f16, got ${dtype}`);
    const dir = req(args, NAME, 'model');
    const out = req(args, NAME, 'out');
    const overwrite = flag(args, 'overwrite');
    let summary: Record<string, unknown>;
    const task = str(args, 'task');
    if (format === 'bundle') {
      const loaded = task === undefined ? await loadModelOrMultiTask(dir) : { single: await loadAnyModel(dir, { task }) };
      const bytes = 'multi' in loaded
        ? await writeMultiTaskBundle(out, loaded.multi, { dtype, source: dir, overwrite })
        : await writeSlimBundle(out, loaded.single, { dtype, source: dir, overwrite });
      summary = { format, out, bytes, ...('multi' in loaded ? { tasks: loaded.multi.taskNames } : {}) };
    } else if (format === 'onnx') {
      const { writeOnnx } = await import('../io/onnx/export.js');
      summary = { format, ...(await writeOnnx(out, await loadAnyModel(dir, { task }), { encoderOnly: flag(args, 'encoder'), overwrite, source: dir })) };
    } else {
      throw new UsageError(`${NAME}: --format must be bundle or onnx, got ${format}`);
    }
    console.log(flag(args, 'json') ? JSON.stringify(summary) : `wrote ${out} (${summary.bytes} bytes)`);
    return 0;
  },
};
