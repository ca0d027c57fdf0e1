import { PermanentError, type Rng } from '@nextlong/core';
import type { Schemas } from '@qdrant/js-client-rest';
import type { QdrantHttp } from './qdrant-http.js';

/**
 * Random draws and stored vectors for the Qdrant searcher's `sample()` and `scores()`.
 *
 * A draw is a scroll from a random UUID (made from the caller's seeded rng) for one point: the
 * first point whose id is at or after it, wrapping to the collection's first point. Point ids
 * are UUIDv5 hashes, uniform over the id space, so every point is equally likely in expectation
 * (a point's chance is the width of the id gap before it); the same rng state and collection
 * give the same points, on any process.
 */

/** A UUID-shaped 128-bit number from four 32-bit draws. */
export function randomUuid(rng: Rng): string {
  const hex = Array.from({ length: 4 }, () => Math.floor(rng.next() * 2 ** 32).toString(16).padStart(8, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export async function scrollOne(
  http: QdrantHttp,
  path: string,
  offset: string | undefined,
  withPayload: string[],
  signal?: AbortSignal,
): Promise<Schemas['Record'] | undefined> {
  const body: Schemas['ScrollRequest'] = { limit: 1, with_payload: withPayload, with_vector: false };
  if (offset !== undefined) body.offset = offset;
  const r = await http.request<Schemas['ScrollResult']>('POST', `${path}/points/scroll`, body, { signal });
  return r.result?.points?.[0];
}

/** Points drawn at random (see above), one scroll each, in draw order. */
export async function drawPoints(http: QdrantHttp, path: string, count: number, rng: Rng, withPayload: string[], signal?: AbortSignal) {
  const offsets = Array.from({ length: count }, () => randomUuid(rng));
  let first: Promise<Schemas['Record'] | undefined> | undefined;
  return Promise.all(
    offsets.map(async (offset) => {
      const p = await scrollOne(http, path, offset, withPayload, signal);
      if (p) return p;
      first ??= scrollOne(http, path, undefined, withPayload, signal); // past the last id: wrap around
      const w = await first;
      if (!w) throw new PermanentError(`Qdrant ${http.where}: cannot sample an empty collection`);
      return w;
    }),
  );
}

/** The stored vectors of points `ids` (as Qdrant keeps them for Cosine: normalized), by id. */
export async function fetchVectors(http: QdrantHttp, path: string, ids: string[], signal?: AbortSignal): Promise<Map<string, number[]>> {
  const body: Schemas['PointRequest'] = { ids, with_payload: false, with_vector: true };
  const r = await http.request<Schemas['Record'][]>('POST', `${path}/points`, body, { signal });
  const out = new Map<string, number[]>();
  for (const rec of r.result ?? []) {
    // a collection with sparse vectors answers every vector by name, the default one as ""
    const v = rec.vector && !Array.isArray(rec.vector) ? (rec.vector as Record<string, unknown>)[''] : rec.vector;
    if (!Array.isArray(v) || typeof v[0] !== 'number') throw new PermanentError(`Qdrant ${http.where}: point ${String(rec.id)} has no plain vector`);
    out.set(String(rec.id), v as number[]);
  }
  const lost = ids.find((id) => !out.has(id));
  if (lost) throw new PermanentError(`Qdrant ${http.where}: point ${lost} not found: collection changed since the search?`);
  return out;
}

/** Cosine similarity of `query` to a stored (normalized) vector: the score a search reports. */
export function cosineToStored(query: Float32Array, stored: number[]): number {
  let qq = 0;
  let dot = 0;
  for (let i = 0; i < query.length; i++) {
    qq += query[i]! * query[i]!;
    dot += query[i]! * stored[i]!;
  }
  return qq === 0 ? 0 : Math.fround(dot / Math.sqrt(qq));
}
