export * from './fs-store.js';
export * from './line-reader.js';
export * from './records.js';
export * from './part-writer.js';
export * from './inputs.js';
export * from './shard-reader.js';
export * from './mds-format.js';
export * from './mds-writer.js';
