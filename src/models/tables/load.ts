/** Rebuilds any table from its spec (manifest `architecture.table`) and the saved tensors. */
import { OpError } from '../../errors.js';
import type { SafeTensor } from '../../io/safetensors.js';
import { DenseNgramTable } from '../danTable.js';
import { CodesTable } from './codes.js';
import { LowRankTable } from './lowRank.js';
import { QuantTable, packBytes } from './quantized.js';
import type { EmbeddingTable, TableSpec } from './table.js';

export const TABLE_KINDS = ['dense', 'int8', 'int4', 'lowrank', 'pq', 'codes'] as const;

/**
 * `get(name)` returns the tensor saved under the table's prefix (or undefined); `bad(field, why)`
 * throws the caller's error naming its file. Returns the table and the tensor names it used.
 */
export function tableFromSpec(spec: TableSpec, get: (name: string) => SafeTensor | undefined, bad: (field: string, why: string) => never): { table: EmbeddingTable; names: string[] } {
  const { rows, dim } = spec;
  if (!(TABLE_KINDS as readonly string[]).includes(spec.kind)) bad('architecture.table.kind', `${JSON.stringify(spec.kind)} is not one of ${TABLE_KINDS.join(', ')}`);
  const tensor = <T extends Float32Array | Int32Array>(name: string, shape: number[], type: 'float' | 'int'): T => {
    const t = get(name) ?? bad('weights', `no tensor ${name} for a ${spec.kind} table`);
    const ok = type === 'float' ? t.data instanceof Float32Array : t.data instanceof Int32Array;
    if (!ok || t.shape.join(',') !== shape.join(',')) bad(name, `shape [${t.shape.join(', ')}] (${t.dtype}) but a ${spec.kind} table of ${rows} x ${dim} needs [${shape.join(', ')}] ${type}`);
    return t.data as T;
  };
  const whole = (k: 'rank' | 'books' | 'words'): number => {
    const v = spec[k];
    return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : bad(`architecture.table.${k}`, `expected a whole number >= 1 for a ${spec.kind} table`);
  };
  try {
    switch (spec.kind) {
      case 'dense':
        return { table: new DenseNgramTable(rows, dim, { data: tensor<Float32Array>('weight', [rows, dim], 'float'), storeDtype: spec.dtype === 'F16' ? 'F16' : 'F32' }), names: ['weight'] };
      case 'int8':
      case 'int4': {
        const bits = spec.kind === 'int8' ? 8 : 4;
        const q = tensor<Int32Array>('q', [rows, (dim * bits) / 8], 'int');
        return { table: new QuantTable(rows, dim, bits, packBytes(q), tensor<Float32Array>('scale_bias', [rows, 2], 'float')), names: ['q', 'scale_bias'] };
      }
      case 'lowrank': {
        const r = whole('rank');
        return { table: new LowRankTable(rows, dim, r, tensor<Float32Array>('u', [rows, r], 'float'), tensor<Float32Array>('v', [r, dim], 'float')), names: ['u', 'v'] };
      }
      case 'pq':
      case 'codes': {
        const M = whole('books'), K = whole('words');
        const sub = spec.kind === 'pq' ? dim / M : dim;
        const codes = tensor<Int32Array>('codes', [rows, M], 'int');
        const small = K <= 256 ? Uint8Array.from(codes) : codes;
        const books = tensor<Float32Array>('codebooks', [M * K, sub], 'float');
        if (spec.qnorm !== undefined && spec.qnorm !== true) bad('architecture.table.qnorm', 'expected true or no field');
        if (!spec.qnorm) return { table: new CodesTable(spec.kind, rows, dim, M, K, small, books), names: ['codes', 'codebooks'] };
        const nb = get('norm_book')?.shape[0] ?? bad('weights', `no tensor norm_book for a ${spec.kind} table with quantised norms`);
        const norms = { codes: Uint8Array.from(tensor<Int32Array>('norm_codes', [rows], 'int')), book: tensor<Float32Array>('norm_book', [nb], 'float') };
        return { table: new CodesTable(spec.kind, rows, dim, M, K, small, books, norms), names: ['codes', 'codebooks', 'norm_codes', 'norm_book'] };
      }
    }
  } catch (e) {
    if (e instanceof OpError) bad('architecture.table', e.message);
    throw e;
  }
  return bad('architecture.table.kind', `unknown kind ${String(spec.kind)}`);
}
