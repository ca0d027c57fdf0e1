/** The comparison methods of `--method` (DESIGN §5): pure builders; the pipeline feeds them pool data. */
export * from './method.js';
export * from './documents.js';
export * from './doc-vectors.js';
export * from './standard.js';
export * from './iclm.js';
export * from './rake.js';
export * from './quest.js';
