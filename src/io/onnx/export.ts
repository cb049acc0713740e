import { InputError } from '../../errors.js';
import type { AnyTaskModel } from '../../models/anyModel.js';

export interface OnnxExportOptions {
  encoderOnly?: boolean;
  overwrite?: boolean;
  source?: string;
}

export async function writeOnnx(out: string, _tm: AnyTaskModel, _opts: OnnxExportOptions = {}): Promise<{ out: string; bytes: number }> {
  throw new InputError(out, undefined, undefined, 'ONNX export is not built yet');
}
