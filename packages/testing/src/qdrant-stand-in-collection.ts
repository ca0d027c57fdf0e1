/**
 * One collection of the Qdrant stand-in (qdrant-stand-in.ts): points, payload indexes and the
 * optimizer state that `GET /collections/{name}` reports. Brute-force cosine search (exact; no
 * HNSW, no quantization); equal scores come back in upload order, as a real server may, so a
 * client's own tie-break is exercised. Requests reach it already validated against the spec;
 * sparse vectors (qdrant-stand-in-sparse.ts) beside the unnamed dense one are supported; what it
 * cannot do (named dense vectors, other query kinds) is a 400 saying "not implemented".
 */

import { StandInError } from './qdrant-stand-in-errors.js';
import { checkSparse, sparseScores, type SparseVector } from './qdrant-stand-in-sparse.js';

export { StandInError };

type Json = Record<string, unknown>;
interface Point {
  id: string | number;
  vector: number[];
  /** Named sparse vectors (collections with `sparse_vectors`). */
  sparse: Record<string, SparseVector>;
  payload: Json;
}
type Condition = { key: string; match: { value: unknown } } | { has_id: (string | number)[]; key?: never; match?: never };

const notImplemented = (what: string) => new StandInError(400, `stand-in: ${what} is not implemented`);

/** Qdrant answers UUIDs lower-case and hyphenated, whatever form was sent. */
function pointKey(id: string | number): string | number {
  if (typeof id === 'number') return id;
  const h = id.replace(/-/g, '').toLowerCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Qdrant's point id order: numbers ascending, then UUIDs by their 128-bit value (= lower-case hex order). */
function compareIds(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function unit(v: number[]): number[] {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return n === 0 ? v : v.map((x) => Math.fround(x / n));
}

export interface OptimizerModel {
  /** GET polls that answer `yellow` after each update (the optimizer "running"). */
  yellowPolls: number;
  /** Points at or above which vectors count as indexed; below, like Qdrant's small segments, none are. */
  indexingThreshold: number;
}

export class StandInCollection {
  private readonly points = new Map<string | number, Point>();
  private readonly payloadSchema: Json = {};
  private pendingPolls = 0;
  private indexed = 0;
  /** As after a restart mid-optimization: pending until some update arrives. */
  grey = false;

  constructor(
    private readonly create: Json,
    private readonly model: OptimizerModel,
  ) {
    const v = (create.vectors ?? {}) as Json;
    if (typeof v.size !== 'number') throw notImplemented('a collection without one unnamed vector');
    if (v.distance !== 'Cosine') throw notImplemented(`distance ${String(v.distance)}`);
    for (const [name, params] of Object.entries((create.sparse_vectors ?? {}) as Record<string, Json>))
      if (params.index != null) throw notImplemented(`sparse vector "${name}" index params`);
  }

  /** Named sparse vectors of the collection and their params (`modifier`). */
  private get sparseConfig(): Record<string, { modifier?: string | null }> {
    return (this.create.sparse_vectors ?? {}) as Record<string, { modifier?: string | null }>;
  }

  private get dim(): number {
    return (this.create.vectors as { size: number }).size;
  }

  /** After every update: the optimizer runs for `yellowPolls` polls, then all is indexed. */
  private updated(): void {
    this.grey = false;
    this.pendingPolls = this.model.yellowPolls;
    if (this.pendingPolls === 0) this.settle();
  }

  private settle(): void {
    this.indexed = this.points.size >= this.model.indexingThreshold ? this.points.size : 0;
  }

  /** The CollectionInfo a GET answers; each yellow answer uses up one poll. */
  info(): Json {
    const status = this.grey ? 'grey' : this.pendingPolls > 0 ? 'yellow' : 'green';
    if (status === 'yellow' && --this.pendingPolls === 0) this.settle();
    const { hnsw_config: h, quantization_config: q, optimizers_config: o } = this.create as Record<string, Json | undefined>;
    return {
      status,
      optimizer_status: this.grey ? { error: 'optimizations pending, awaiting update operation' } : 'ok',
      indexed_vectors_count: this.indexed,
      points_count: this.points.size,
      segments_count: 1,
      config: {
        params: {
          vectors: this.create.vectors,
          ...(this.create.sparse_vectors ? { sparse_vectors: this.create.sparse_vectors } : {}),
          shard_number: 1,
          replication_factor: 1,
          write_consistency_factor: 1,
          on_disk_payload: true,
        },
        hnsw_config: { m: h?.m ?? 16, ef_construct: h?.ef_construct ?? 100, full_scan_threshold: 10000 },
        optimizer_config: { default_segment_number: 0, flush_interval_sec: 5, indexing_threshold: o?.indexing_threshold ?? 10000 },
        quantization_config: q ?? null,
      },
      payload_schema: this.payloadSchema,
    };
  }

  patch(): boolean {
    this.updated();
    return true;
  }

  createIndex(body: { field_name: string; field_schema?: unknown }): Json {
    if (typeof body.field_schema !== 'string') throw notImplemented('a payload index without a plain type');
    this.payloadSchema[body.field_name] = { data_type: body.field_schema, points: this.points.size };
    this.updated();
    return { operation_id: 0, status: 'completed' };
  }

  upsert(body: Json): Json {
    if (!Array.isArray(body.points)) throw notImplemented('the batch (columnar) upsert form');
    for (const p of body.points as (Omit<Point, 'vector' | 'sparse'> & { vector: unknown })[]) {
      const { dense, sparse } = this.vectorsOf(p.vector);
      if (dense.length !== this.dim)
        throw new StandInError(400, `Wrong input: Vector dimension error: expected dim: ${this.dim}, got ${dense.length}`);
      const id = pointKey(p.id);
      this.points.set(id, { id, vector: unit(dense), sparse, payload: p.payload ?? {} });
    }
    this.updated();
    return { operation_id: 1, status: 'completed' };
  }

  /** A point's vectors: the unnamed dense one, plain or as `""` of a map that also holds the sparse ones. */
  private vectorsOf(v: unknown): { dense: number[]; sparse: Record<string, SparseVector> } {
    if (Array.isArray(v) && typeof v[0] !== 'object') return { dense: v as number[], sparse: {} };
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw notImplemented('multi vectors');
    const sparse: Record<string, SparseVector> = {};
    let dense: number[] | undefined;
    for (const [name, x] of Object.entries(v as Json)) {
      if (name === '') dense = x as number[];
      else if (name in this.sparseConfig) sparse[name] = checkSparse(name, x);
      else throw new StandInError(400, `Wrong input: Not existing vector name error: ${name}`);
    }
    if (!Array.isArray(dense)) throw new StandInError(400, 'Wrong input: the default (unnamed) vector is missing');
    return { dense, sparse };
  }

  delete(body: Json): Json {
    if (!Array.isArray(body.points)) throw notImplemented('delete by filter');
    for (const id of body.points as (string | number)[]) this.points.delete(pointKey(id));
    this.updated();
    return { operation_id: 2, status: 'completed' };
  }

  count(body: Json): Json {
    return { count: [...this.points.values()].filter(this.filter(body.filter as Json | undefined)).length };
  }

  query(s: Json): Json {
    for (const k of ['prefetch', 'lookup_from', 'shard_key'] as const) if (s[k] != null) throw notImplemented(`query "${k}"`);
    if (s.using != null && s.using !== '') return this.querySparse(s);
    const q = s.query;
    if (!Array.isArray(q) || typeof q[0] !== 'number') throw notImplemented('a query that is not a plain vector');
    if (q.length !== this.dim)
      throw new StandInError(400, `Wrong input: Vector dimension error: expected dim: ${this.dim}, got ${q.length}`);
    const u = unit(q as number[]);
    const offset = (s.offset as number | undefined) ?? 0;
    const points = [...this.points.values()]
      .filter(this.filter(s.filter as Json | undefined))
      .map((p, order) => ({ p, order, score: Math.fround(p.vector.reduce((acc, x, i) => acc + x * u[i]!, 0)) }))
      .filter(({ score }) => s.score_threshold == null || score >= (s.score_threshold as number))
      .sort((a, b) => b.score - a.score || a.order - b.order)
      .slice(offset, offset + ((s.limit as number | undefined) ?? 10))
      .map(({ p, score }) => ({ id: p.id, version: 1, score, ...this.shown(p, s.with_payload ?? false, s.with_vector ?? false) }));
    return { points };
  }

  /** A query of sparse vector `using` (see qdrant-stand-in-sparse.ts); ties in upload order. */
  private querySparse(s: Json): Json {
    const name = s.using as string;
    const config = this.sparseConfig[name];
    if (!config) throw new StandInError(400, `Wrong input: Not existing vector name error: ${name}`);
    const q = checkSparse('query', s.query);
    const all = [...this.points.values()];
    const scores = sparseScores(
      q,
      all.map((p) => p.sparse[name]),
      config.modifier === 'idf',
    );
    const keep = this.filter(s.filter as Json | undefined);
    const offset = (s.offset as number | undefined) ?? 0;
    const points = all
      .map((p, order) => ({ p, order, score: scores[order]! }))
      .filter(({ p, score }) => keep(p) && score > 0 && (s.score_threshold == null || score >= (s.score_threshold as number)))
      .sort((a, b) => b.score - a.score || a.order - b.order)
      .slice(offset, offset + ((s.limit as number | undefined) ?? 10))
      .map(({ p, score }) => ({ id: p.id, version: 1, score, ...this.shown(p, s.with_payload ?? false, s.with_vector ?? false) }));
    return { points };
  }

  retrieve(body: Json): Json[] {
    return (body.ids as (string | number)[]).flatMap((id) => {
      const p = this.points.get(pointKey(id));
      return p ? [{ id: p.id, ...this.shown(p, body.with_payload ?? true, body.with_vector ?? false) }] : [];
    });
  }

  /**
   * A page of points in id order (numbers first, then UUIDs by value, as Qdrant orders them)
   * from `offset` (inclusive), and the id that starts the next page.
   */
  scroll(body: Json): Json {
    if (body.order_by != null) throw notImplemented('scroll "order_by"');
    const limit = (body.limit as number | undefined) ?? 10;
    const offset = body.offset == null ? undefined : pointKey(body.offset as string | number);
    const ordered = [...this.points.values()].filter(this.filter(body.filter as Json | undefined)).sort((a, b) => compareIds(a.id, b.id));
    const from = offset === undefined ? 0 : ordered.findIndex((p) => compareIds(p.id, offset) >= 0);
    const page = from < 0 ? [] : ordered.slice(from, from + limit);
    const next = from < 0 ? undefined : ordered[from + limit];
    return {
      points: page.map((p) => ({ id: p.id, ...this.shown(p, body.with_payload ?? true, body.with_vector ?? false) })),
      next_page_offset: next ? next.id : null,
    };
  }

  /** The payload and vector fields of an answer, as `with_payload` / `with_vector` select. */
  private shown(p: Point, withPayload: unknown, withVector: unknown): Json {
    let payload: Json | undefined;
    if (withPayload === true) payload = p.payload;
    else if (Array.isArray(withPayload))
      payload = Object.fromEntries(withPayload.filter((k) => k in p.payload).map((k) => [k, p.payload[k]]));
    else if (withPayload && typeof withPayload === 'object') {
      const { include, exclude } = withPayload as { include?: string[]; exclude?: string[] };
      const keep = (k: string) => (include ? include.includes(k) : !exclude!.includes(k));
      payload = Object.fromEntries(Object.entries(p.payload).filter(([k]) => keep(k)));
    }
    // Qdrant gives back Cosine vectors as it stores them: normalized
    if (withVector !== false && withVector !== true) throw notImplemented('with_vector naming vectors');
    // with sparse vectors configured, Qdrant answers every vector by name, the default one as ""
    const vector = Object.keys(this.sparseConfig).length ? { '': p.vector, ...p.sparse } : p.vector;
    return { ...(payload ? { payload } : {}), ...(withVector === true ? { vector } : {}) };
  }

  /** A predicate for the filters the stand-in understands: must / must_not of exact matches. */
  private filter(f: Json | undefined): (p: Point) => boolean {
    if (!f) return () => true;
    if (f.should != null || f.min_should != null) throw notImplemented('filter "should"');
    const list = (c: unknown) => (c == null ? [] : ((Array.isArray(c) ? c : [c]) as Condition[]));
    const must = list(f.must);
    const mustNot = list(f.must_not);
    for (const c of [...must, ...mustNot]) {
      if ('has_id' in c) continue;
      if (Object.keys(c).some((k) => k !== 'key' && k !== 'match') || !c.match || !('value' in c.match))
        throw notImplemented('a condition other than match value or has_id');
    }
    const hit = (p: Point, c: Condition) =>
      'has_id' in c ? (c.has_id as (string | number)[]).some((id) => pointKey(id) === p.id) : p.payload[c.key] === c.match.value;
    return (p) => must.every((c) => hit(p, c)) && !mustNot.some((c) => hit(p, c));
  }
}
