export * from './jobs.js';
export * from './redis.js';
export * from './job-guard.js';
export * from './watchdog.js';
export * from './worker-runner.js';
export * from './coordinator.js';
export * from './status.js';
