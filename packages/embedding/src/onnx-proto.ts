/**
 * Minimal protobuf encoder for the ONNX ModelProto subset we write (field numbers from onnx/onnx.proto).
 * No dependency on protobufjs/onnx: the static model and test graphs are built in-process, and the
 * same description must always give the same bytes (the model file is compared across builds).
 */
import { endianness } from 'node:os';

export type ElemType = 'float32' | 'int64';
/** TensorProto.DataType values. */
const DATA_TYPE: Record<ElemType, number> = { float32: 1, int64: 7 };

export interface TensorInit {
  name: string;
  type: ElemType;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

/** A graph input/output; string dims are symbolic (`dim_param`), number dims fixed (`dim_value`). */
export interface ValueInfo {
  name: string;
  type: ElemType;
  shape: (number | string)[];
}

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'tensor'; value: TensorInit };

/** Attribute constructors: `attr.int(1)` reads better than the tagged object. */
export const attr = {
  int: (value: number): AttrValue => ({ kind: 'int', value }),
  float: (value: number): AttrValue => ({ kind: 'float', value }),
  string: (value: string): AttrValue => ({ kind: 'string', value }),
  ints: (value: number[]): AttrValue => ({ kind: 'ints', value }),
  floats: (value: number[]): AttrValue => ({ kind: 'floats', value }),
  tensor: (value: TensorInit): AttrValue => ({ kind: 'tensor', value }),
};

export interface NodeDef {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  /** Written in insertion order (deterministic for literal objects). */
  attrs?: Record<string, AttrValue>;
}

export interface GraphDef {
  name: string;
  nodes: NodeDef[];
  initializers: TensorInit[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

export interface ModelDef {
  graph: GraphDef;
  irVersion?: number; // default 8
  opsetVersion?: number; // default 17 (domain "")
  producerName?: string;
  producerVersion?: string;
  docString?: string;
  /** Written sorted by key so the bytes never depend on object construction order. */
  metadata?: Record<string, string>;
}

const VARINT = 0;
const LEN = 2;
const I32 = 5;
const utf8 = new TextEncoder();

/**
 * Append-only writer that keeps large byte blocks (tensor raw_data) as separate parts, so a
 * 40 MB embedding table is copied once, into the final buffer.
 */
class Writer {
  readonly parts: Uint8Array[] = [];
  length = 0;
  private scratch: number[] = [];

  private flushScratch(): void {
    if (this.scratch.length === 0) return;
    this.parts.push(Uint8Array.from(this.scratch));
    this.length += this.scratch.length;
    this.scratch = [];
  }

  private byte(b: number): void {
    this.scratch.push(b);
  }

  varint(v: number | bigint): void {
    // int64 fields: negatives are 10-byte two's complement varints (protobuf int64 rule)
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new RangeError(`varint: ${v} is not an integer`);
    let n = BigInt.asUintN(64, BigInt(v));
    while (n >= 0x80n) {
      this.byte(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.byte(Number(n));
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  uint(field: number, v: number | bigint): void {
    this.tag(field, VARINT);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, I32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    for (const x of b) this.byte(x);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, LEN);
    this.varint(data.length);
    this.flushScratch();
    this.parts.push(data);
    this.length += data.length;
  }

  string(field: number, s: string): void {
    this.bytes(field, utf8.encode(s));
  }

  message(field: number, build: (w: Writer) => void): void {
    const child = new Writer();
    build(child);
    child.flushScratch();
    this.tag(field, LEN);
    this.varint(child.length);
    this.flushScratch();
    this.parts.push(...child.parts);
    this.length += child.length;
  }

  finish(): Uint8Array {
    this.flushScratch();
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** Little-endian element bytes, as raw_data requires, whatever the host byte order. */
function rawBytes(t: TensorInit): Uint8Array {
  const expected = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== expected) {
    throw new RangeError(`tensor ${t.name}: ${t.data.length} values for dims [${t.dims.join(', ')}]`);
  }
  if (t.type === 'float32' && !(t.data instanceof Float32Array)) throw new TypeError(`tensor ${t.name}: float32 needs Float32Array`);
  if (t.type === 'int64' && !(t.data instanceof BigInt64Array)) throw new TypeError(`tensor ${t.name}: int64 needs BigInt64Array`);
  const view = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (endianness() === 'LE') return view;
  const out = new Uint8Array(view.length);
  const dv = new DataView(out.buffer);
  t.data.forEach((v: number | bigint, i: number) =>
    typeof v === 'bigint' ? dv.setBigInt64(i * 8, v, true) : dv.setFloat32(i * 4, v, true),
  );
  return out;
}

function writeTensor(w: Writer, t: TensorInit): void {
  for (const d of t.dims) w.uint(1, d); // dims (unpacked is valid for repeated int64)
  w.uint(2, DATA_TYPE[t.type]); // data_type
  w.string(8, t.name); // name
  w.bytes(9, rawBytes(t)); // raw_data
}

function writeValueInfo(w: Writer, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.uint(1, DATA_TYPE[v.type]); // elem_type
      tensor.message(2, (shape) => {
        for (const d of v.shape) {
          shape.message(1, (dim) => (typeof d === 'string' ? dim.string(2, d) : dim.uint(1, d)));
        }
      });
    }),
  );
}

/** AttributeProto.AttributeType values, and the field each kind is stored in. */
const ATTR: Record<AttrValue['kind'], { type: number; field: number }> = {
  float: { type: 1, field: 2 },
  int: { type: 2, field: 3 },
  string: { type: 3, field: 4 },
  tensor: { type: 4, field: 5 },
  floats: { type: 6, field: 7 },
  ints: { type: 7, field: 8 },
};

function writeAttr(w: Writer, name: string, a: AttrValue): void {
  w.string(1, name);
  w.uint(20, ATTR[a.kind].type);
  const f = ATTR[a.kind].field;
  switch (a.kind) {
    case 'float':
      return w.float(f, a.value);
    case 'int':
      return w.uint(f, a.value);
    case 'string':
      return w.string(f, a.value);
    case 'tensor':
      return w.message(f, (t) => writeTensor(t, a.value));
    case 'floats':
      return a.value.forEach((x) => w.float(f, x));
    case 'ints':
      return a.value.forEach((x) => w.uint(f, x));
  }
}

function writeNode(w: Writer, n: NodeDef): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.op);
  for (const [k, v] of Object.entries(n.attrs ?? {})) w.message(5, (a) => writeAttr(a, k, v));
  if (n.domain) w.string(7, n.domain);
}

function writeGraph(w: Writer, g: GraphDef): void {
  for (const n of g.nodes) w.message(1, (m) => writeNode(m, n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (m) => writeTensor(m, t));
  for (const v of g.inputs) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.message(12, (m) => writeValueInfo(m, v));
}

/** Serialize a model to ONNX protobuf bytes; equal definitions give equal bytes. */
export function encodeModel(model: ModelDef): Uint8Array {
  const w = new Writer();
  w.uint(1, model.irVersion ?? 8); // ir_version
  if (model.producerName) w.string(2, model.producerName);
  if (model.producerVersion) w.string(3, model.producerVersion);
  if (model.docString) w.string(6, model.docString);
  w.message(7, (g) => writeGraph(g, model.graph)); // graph
  w.message(8, (o) => {
    o.string(1, ''); // domain "" = the default ai.onnx opset
    o.uint(2, model.opsetVersion ?? 17);
  });
  for (const key of Object.keys(model.metadata ?? {}).sort()) {
    w.message(14, (e) => {
      e.string(1, key);
      e.string(2, model.metadata![key]);
    });
  }
  return w.finish();
}

/** Convenience constructors for initializers. */
export function floatTensor(name: string, dims: number[], data: Float32Array | number[]): TensorInit {
  return { name, type: 'float32', dims, data: data instanceof Float32Array ? data : Float32Array.from(data) };
}

export function int64Tensor(name: string, dims: number[], data: number[]): TensorInit {
  return { name, type: 'int64', dims, data: BigInt64Array.from(data, (x) => BigInt(x)) };
}
