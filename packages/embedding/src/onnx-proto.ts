/**
 * ONNX ModelProto bytes of a graph description, written by protobufjs from the subset of
 * onnx.proto we use. The static model and test graphs are built in-process, and the same
 * description must always give the same bytes (static-model.pin.test.ts pins the model's hash).
 */
import { endianness } from 'node:os';
import protobuf from 'protobufjs';

export type ElemType = 'float32' | 'int64';
/** Graph inputs/outputs may also be float16 (an fp16 export's output); initializers may not. */
export type ValueType = ElemType | 'float16';
/** TensorProto.DataType values. */
const DATA_TYPE: Record<ValueType, number> = { float32: 1, int64: 7, float16: 10 };

export interface TensorInit {
  name: string;
  type: ElemType;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

/** A graph input/output; string dims are symbolic (`dim_param`), number dims fixed (`dim_value`). */
export interface ValueInfo {
  name: string;
  type: ValueType;
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

/**
 * The part of onnx/onnx.proto (https://github.com/onnx/onnx, Apache-2.0) that our graphs use,
 * field numbers as published; proto2, so repeated numbers are written unpacked as ONNX writes them.
 */
const ONNX_SUBSET = `
syntax = "proto2";
package onnx;
message AttributeProto {
  optional string name = 1; optional float f = 2; optional int64 i = 3; optional bytes s = 4;
  optional TensorProto t = 5; repeated float floats = 7; repeated int64 ints = 8; optional int32 type = 20;
}
message ValueInfoProto { optional string name = 1; optional TypeProto type = 2; }
message NodeProto {
  repeated string input = 1; repeated string output = 2; optional string name = 3; optional string op_type = 4;
  repeated AttributeProto attribute = 5; optional string domain = 7;
}
message StringStringEntryProto { optional string key = 1; optional string value = 2; }
message OperatorSetIdProto { optional string domain = 1; optional int64 version = 2; }
message ModelProto {
  optional int64 ir_version = 1; optional string producer_name = 2; optional string producer_version = 3;
  optional string doc_string = 6; optional GraphProto graph = 7; repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
}
message GraphProto {
  repeated NodeProto node = 1; optional string name = 2; repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12;
}
message TensorProto { repeated int64 dims = 1; optional int32 data_type = 2; optional string name = 8; optional bytes raw_data = 9; }
message TensorShapeProto {
  message Dimension { oneof value { int64 dim_value = 1; string dim_param = 2; } }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { optional int32 elem_type = 1; optional TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; }
}
`;

let modelType: protobuf.Type | undefined;
/** onnx.ModelProto, parsed once. */
function modelProto(): protobuf.Type {
  return (modelType ??= protobuf.parse(ONNX_SUBSET, { keepCase: true }).root.lookupType('onnx.ModelProto'));
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

const tensor = (t: TensorInit) => ({ dims: t.dims, data_type: DATA_TYPE[t.type], name: t.name, raw_data: rawBytes(t) });

const valueInfo = (v: ValueInfo) => ({
  name: v.name,
  type: {
    tensor_type: {
      elem_type: DATA_TYPE[v.type],
      shape: { dim: v.shape.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) },
    },
  },
});

/** AttributeProto.AttributeType values, and the field each kind is stored in. */
const ATTR: Record<AttrValue['kind'], { type: number; field: string }> = {
  float: { type: 1, field: 'f' },
  int: { type: 2, field: 'i' },
  string: { type: 3, field: 's' },
  tensor: { type: 4, field: 't' },
  floats: { type: 6, field: 'floats' },
  ints: { type: 7, field: 'ints' },
};

function attribute(name: string, a: AttrValue) {
  const value = a.kind === 'string' ? utf8.encode(a.value) : a.kind === 'tensor' ? tensor(a.value) : a.value;
  return { name, type: ATTR[a.kind].type, [ATTR[a.kind].field]: value };
}

const node = (n: NodeDef) => ({
  input: n.inputs,
  output: n.outputs,
  ...(n.name ? { name: n.name } : {}),
  op_type: n.op,
  attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
  ...(n.domain ? { domain: n.domain } : {}),
});

const utf8 = new TextEncoder();

/** Serialize a model to ONNX protobuf bytes (protobufjs); equal definitions give equal bytes. */
export function encodeModel(model: ModelDef): Uint8Array {
  const g = model.graph;
  const message = {
    ir_version: model.irVersion ?? 8,
    ...(model.producerName ? { producer_name: model.producerName } : {}),
    ...(model.producerVersion ? { producer_version: model.producerVersion } : {}),
    ...(model.docString ? { doc_string: model.docString } : {}),
    graph: {
      node: g.nodes.map(node),
      name: g.name,
      initializer: g.initializers.map(tensor),
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
    },
    // domain "" = the default ai.onnx opset
    opset_import: [{ domain: '', version: model.opsetVersion ?? 17 }],
    metadata_props: Object.keys(model.metadata ?? {})
      .sort()
      .map((key) => ({ key, value: model.metadata![key] })),
  };
  return modelProto().encode(message).finish();
}

/** Convenience constructors for initializers. */
export function floatTensor(name: string, dims: number[], data: Float32Array | number[]): TensorInit {
  return { name, type: 'float32', dims, data: data instanceof Float32Array ? data : Float32Array.from(data) };
}

export function int64Tensor(name: string, dims: number[], data: number[]): TensorInit {
  return { name, type: 'int64', dims, data: BigInt64Array.from(data, (x) => BigInt(x)) };
}
