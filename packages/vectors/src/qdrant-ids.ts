import { createHash } from 'node:crypto';
import { hash53 } from '@nextlong/core';

/**
 * Identity of a pool chunk in Qdrant (DESIGN §2: every write is idempotent).
 *
 * Point id = UUIDv5 (RFC 4122 §4.3, SHA-1 name-based) of the name `${docId}\u0000${chunk}`
 * (UTF-8) in the namespace NEXTLONG_POINT_NAMESPACE. That namespace is itself a UUIDv5:
 * `uuid5(NAMESPACE_URL, "urn:nextlong:chunk-point")` = e95376ea-6651-5fb4-9d24-9a863b026a8d
 * (Python: `uuid.uuid5(uuid.NAMESPACE_URL, 'urn:nextlong:chunk-point')`). Changing it would
 * re-key every collection ever written, so it is pinned by a test.
 *
 * Hit key = hash53(`${docId}\u0000${chunk}`): the chunk's name in this searcher (ports.ts
 * ChunkRef.key: tie-breaks, "already used" sets, texts(), scores()). Two chunks of a large pool
 * can share one (53 bits; ~1e-6 odds among 100k cached chunks), which would at worst merge them
 * in one result list.
 */

/** RFC 4122 appendix C: the namespace for URLs (and URNs). */
export const NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';
/** Namespace of NExtLong chunk point ids: uuid5(NAMESPACE_URL, "urn:nextlong:chunk-point"). */
export const NEXTLONG_POINT_NAMESPACE = 'e95376ea-6651-5fb4-9d24-9a863b026a8d';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** RFC 4122 version-5 UUID of `name` (UTF-8) in `namespace`, lower-case hyphenated. */
export function uuidv5(name: string, namespace: string): string {
  if (!UUID.test(namespace)) throw new Error(`not a UUID: ${JSON.stringify(namespace)}`);
  const digest = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  const b = digest.subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50; // version 5
  b[8] = (b[8] & 0x3f) | 0x80; // variant RFC 4122
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function chunkName(docId: string, chunk: number): string {
  return `${docId}\u0000${chunk}`;
}

/** The Qdrant point id of chunk `chunk` of document `docId`. */
export function qdrantPointId(docId: string, chunk: number): string {
  return uuidv5(chunkName(docId, chunk), NEXTLONG_POINT_NAMESPACE);
}

/** The Hit.key of chunk `chunk` of document `docId` (see above). */
export function qdrantChunkKey(docId: string, chunk: number): number {
  return hash53(chunkName(docId, chunk));
}
