/** Test helpers of @nextlong/embedding (the `@nextlong/embedding/testing` subpath; never used by production code). */
export * from './tiny-bert.js';
export * from './tokenizer-json.js';
export * from './st-reference.js';
