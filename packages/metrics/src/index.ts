/** @nextlong/metrics: the process registry, the NExtLong metrics (DESIGN §9) and their HTTP endpoint. */
export {
  registry,
  metrics,
  METRIC_NAMES,
  METRIC_PREFIX,
  DROPPED_DEFAULT_METRICS,
  LATENCY_BUCKETS_SECONDS,
  SHARD_BUCKETS_SECONDS,
  COSINE_BUCKETS,
  SHARD_STATES,
  QUEUE_STATES,
  timeAsync,
  setRunInfo,
  setShardCounts,
  setQueueCounts,
  initStageMetrics,
  type Metrics,
  type ShardState,
  type QueueState,
} from './metrics.js';
export { startMetricsServer, parseListenAddress, DEFAULT_METRICS_HOST, type MetricsServer, type MetricsServerOptions } from './server.js';
