export * from './run-state.js';
export * from './stats.js';
export * from './plan.js';
export * from './context.js';
export * from './run-shard.js';
export * from './finalize.js';
export * from './progress.js';
export * from './local-executor.js';
