/**
 * The few ONNX protobuf messages an exporter writes (ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto, ValueInfoProto), encoded by hand with their field numbers from
 * onnx/onnx.proto3. Written rather than taken from protobufjs because writing is all we need:
 * a varint, a length prefix and a tag per field, about 100 lines, where protobufjs would want the
 * .proto schema (not on npm as a maintained package) or generated code for it.
 */

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;

type Chunk = Uint8Array;

/** A protobuf message under construction: fields appended in order. */
export class Msg {
  private readonly parts: Chunk[] = [];
  private size = 0;

  private push(b: Chunk): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }

  private tag(field: number, wire: number): this {
    return this.push(varint((field << 3) | wire));
  }

  int(field: number, v: number): this {
    return this.tag(field, 0).push(varint(v));
  }

  float(field: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return this.tag(field, 5).push(b);
  }

  bytes(field: number, b: Chunk): this {
    return this.tag(field, 2).push(varint(b.length)).push(b);
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  msg(field: number, m: Msg): this {
    return this.bytes(field, m.finish());
  }

  /** A packed repeated int64 field. */
  ints(field: number, vs: readonly number[]): this {
    return this.bytes(field, concat(vs.map(varint)));
  }

  finish(): Uint8Array {
    return concat(this.parts, this.size);
  }
}

/** Base-128 varint; negative numbers as 64-bit two's complement (10 bytes), as int64 fields want. */
function varint(n: number): Chunk {
  if (!Number.isSafeInteger(n)) throw new RangeError(`varint of ${n}`);
  let v = n < 0 ? (1n << 64n) + BigInt(n) : BigInt(n);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

function concat(parts: readonly Chunk[], size = parts.reduce((s, p) => s + p.length, 0)): Uint8Array {
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---- message builders --------------------------------------------------------------------------

export type Attr = number | readonly number[] | { float: number };

/** NodeProto: op_type, inputs, outputs, attributes (ints, int lists, or { float }). */
export function node(op: string, inputs: readonly string[], outputs: readonly string[], name: string, attrs: Record<string, Attr> = {}): Msg {
  const m = new Msg();
  for (const i of inputs) m.string(1, i);
  for (const o of outputs) m.string(2, o);
  m.string(3, name).string(4, op);
  for (const [k, v] of Object.entries(attrs)) {
    const a = new Msg().string(1, k);
    if (typeof v === 'number') a.int(3, v).int(20, 2);
    else if (Array.isArray(v)) a.ints(8, v as number[]).int(20, 7);
    else a.float(2, (v as { float: number }).float).int(20, 1);
    m.msg(5, a);
  }
  return m;
}

/** TensorProto with raw little-endian data. */
export function tensor(name: string, dims: readonly number[], data: Float32Array | BigInt64Array | Int32Array): Msg {
  const type = data instanceof Float32Array ? DataType.FLOAT : data instanceof BigInt64Array ? DataType.INT64 : DataType.INT32;
  return new Msg().ints(1, dims).int(2, type).string(8, name).bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** ValueInfoProto of a tensor: each dim a number or a symbolic name ('batch', 'sequence'). */
export function valueInfo(name: string, elemType: number, dims: readonly (number | string)[]): Msg {
  const shape = new Msg();
  for (const d of dims) shape.msg(1, typeof d === 'number' ? new Msg().int(1, d) : new Msg().string(2, d));
  const t = new Msg().int(1, elemType).msg(2, shape);
  return new Msg().string(1, name).msg(2, new Msg().msg(1, t));
}
