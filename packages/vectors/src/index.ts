/** @nextlong/vectors: the two vector backends (DESIGN §2) — `segments` (segment files, index build, searcher) and `qdrant`. */
export {
  SEGMENTS_PREFIX,
  SEGMENT_SUFFIX,
  decodeSegment,
  encodeSegment,
  segmentKey,
  segmentPoints,
  writeSegment,
  type Segment,
} from './segment-format.js';
export {
  INDEX_DESCRIPTOR_KEY,
  INDEX_FILE_NAMES,
  readDescriptor,
  type HnswParams,
  type IndexDescriptor,
  type IndexFileInfo,
  type IndexPartition,
} from './index-layout.js';
export { VECTOR_TYPES, type VectorType } from './vector-types.js';
export { buildSegmentsIndex, DEFAULT_PARTITION_CHUNKS, type BuildSegmentsOptions, type BuildSegmentsResult } from './segments-build.js';
export { openSegmentsIndex, SegmentsVectorIndex, type OpenSegmentsOptions } from './segments-index.js';
export { openQdrantIndex, QdrantVectorIndex, type OpenQdrantOptions } from './qdrant-index.js';
export { NEXTLONG_POINT_NAMESPACE, qdrantChunkKey, qdrantPointId, uuidv5 } from './qdrant-ids.js';
export { QdrantBackend, SegmentsBackend } from './backends.js';
export { buildBm25Index, BM25_DESCRIPTOR_KEY, type Bm25Descriptor } from './bm25-build.js';
export { openBm25Index, Bm25Index } from './bm25-index.js';
export { QdrantBm25Searcher, sparseDocVector, BM25_QDRANT_AVG_LENGTH } from './qdrant-sparse.js';
