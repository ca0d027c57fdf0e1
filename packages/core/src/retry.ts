/**
 * Retries made visible (DESIGN §8): every retry of a remote call (S3, Qdrant, Redis, a shard)
 * is reported here, so it is logged with its attempt and reason and counted by the metrics
 * package (`nextlong_retries_total{target,reason}`), without adapters importing either.
 */
import { ConfigError, isConfigError, isPermanent, isRetryable } from './errors.js';
import { logger } from './log.js';

export interface RetryEvent {
  /** What is retried: `s3`, `qdrant`, `redis`, `shard`, `input`. */
  target: string;
  /** Short, low-cardinality reason: an HTTP status, an error code or name. */
  reason: string;
  /** 1-based number of the attempt that failed. */
  attempt: number;
  /** How long until the next attempt, in milliseconds. */
  delayMs: number;
  /** What failed, for the log line (never a secret). */
  what: string;
}

type Listener = (e: RetryEvent) => void;
type RetryLog = (line: string, e?: RetryEvent) => void;
const listeners = new Set<Listener>();
const toLogger: RetryLog = (line, e) => logger().warn(e ? { retry: { target: e.target, reason: e.reason, attempt: e.attempt, delay_ms: e.delayMs } } : {}, line);
let log: RetryLog = toLogger;

/** Subscribes to retry events; returns the unsubscribe function. */
export function onRetry(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Where retry log lines go (default: the process logger, level warn); returns the previous one (tests capture lines). */
export function setRetryLog(fn: RetryLog): RetryLog {
  const prev = log;
  log = fn;
  return prev;
}

/** Logs one retry and tells every listener. */
export function reportRetry(e: RetryEvent): void {
  log(`retry ${e.target} (${e.reason}) attempt ${e.attempt}, next in ${(e.delayMs / 1000).toFixed(1)} s: ${e.what}`, e);
  for (const l of listeners) {
    try {
      l(e);
    } catch {
      // a failing observer must never break the retried work
    }
  }
}

export interface BackoffOptions {
  /** First delay in ms (default 500). */
  baseMs?: number;
  /** Largest single delay in ms (default 10 s). */
  maxMs?: number;
  /** Share of each delay that is random (default 0.5): spreads a fleet's retries apart. */
  jitter?: number;
}

/** Exponential backoff with jitter for the 1-based `attempt` that just failed. */
export function backoffMs(attempt: number, o: BackoffOptions = {}, random: () => number = Math.random): number {
  const base = o.baseMs ?? 500;
  const max = o.maxMs ?? 10_000;
  const jitter = o.jitter ?? 0.5;
  const d = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(d * (1 - jitter) + d * jitter * random());
}

export interface RetryOptions extends BackoffOptions {
  target: string;
  what: string;
  /** Keep retrying while the total time spent stays under this (default retryBudgetMs(): 90 s). */
  budgetMs?: number;
  /** Whether an error is worth another attempt. */
  retryable: (err: unknown) => boolean;
  /** The reason label of an error. */
  reasonOf?: (err: unknown) => string;
  signal?: AbortSignal;
}

/** Default retry budget: long enough to ride out a 60 s outage of a remote service. */
export const DEFAULT_RETRY_BUDGET_MS = 90_000;

/**
 * How long transient failures (S3, Qdrant, Redis, input reads) are retried before the work
 * fails: DEFAULT_RETRY_BUDGET_MS, or NEXTLONG_RETRY_BUDGET_MS. The one place that variable is
 * read; read at each use, so tests and long-lived processes see a change.
 */
export function retryBudgetMs(env: Record<string, string | undefined> = process.env): number {
  const raw = env.NEXTLONG_RETRY_BUDGET_MS?.trim();
  if (!raw) return DEFAULT_RETRY_BUDGET_MS;
  const ms = Number(raw);
  if (!Number.isFinite(ms) || ms < 0) throw new ConfigError('NEXTLONG_RETRY_BUDGET_MS must be a number of milliseconds (0 or more)');
  return ms;
}

/** Runs `fn` until it succeeds, fails with a non-retryable error, or the budget is spent. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const started = Date.now();
  const budget = o.budgetMs ?? retryBudgetMs();
  for (let attempt = 1; ; attempt++) {
    o.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      if (o.signal?.aborted || !o.retryable(err)) throw err;
      const delayMs = backoffMs(attempt, o);
      if (Date.now() - started + delayMs > budget) throw err;
      reportRetry({ target: o.target, reason: o.reasonOf?.(err) ?? errorReason(err), attempt, delayMs, what: `${o.what}: ${(err as Error).message}` });
      await sleep(delayMs, o.signal);
    }
  }
}

/** A low-cardinality reason for an error: its code, HTTP status or name. */
export function errorReason(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown; $metadata?: { httpStatusCode?: number }; httpStatusCode?: number } | undefined;
  const status = e?.$metadata?.httpStatusCode ?? e?.httpStatusCode;
  if (typeof e?.code === 'string' && /^[A-Z_]+$/.test(e.code)) return e.code;
  if (typeof status === 'number') return String(status);
  return typeof e?.name === 'string' ? e.name : 'error';
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * How a failed shard is retried — one policy for the local executor (its stage driver's lanes)
 * and the fleet (BullMQ job attempts, with `shardRetryDelay` as the workers' backoff strategy).
 */
export interface ShardRetryPolicy extends Required<BackoffOptions> {
  /** Attempts in all, the first included. */
  attempts: number;
}

export const SHARD_RETRY: ShardRetryPolicy = { attempts: 5, baseMs: 2000, maxMs: 60_000, jitter: 0.5 };

/**
 * `permanent`: retrying cannot help (PermanentError, a configuration error, a schema error, a
 * job refused for good); `retryable`: transient by its own account (RetryableError); `unknown`:
 * anything else — a shard process that died (killed, out of memory) or an unclassified I/O
 * error may pass on another attempt, so it is retried like a retryable one, within the limit.
 */
export type FailureClass = 'retryable' | 'permanent' | 'unknown';

export function failureClass(err: unknown): FailureClass {
  const name = (err as Error | undefined)?.name;
  if (isPermanent(err) || isConfigError(err) || name === 'ZodError' || name === 'UnrecoverableError') return 'permanent';
  return isRetryable(err) ? 'retryable' : 'unknown';
}

/** Delay before the next attempt of a shard whose `attempt` (1-based) failed with `err`; undefined: it failed for good. */
export function shardRetryDelay(err: unknown, attempt: number, policy: ShardRetryPolicy = SHARD_RETRY, random?: () => number): number | undefined {
  if (failureClass(err) === 'permanent' || attempt >= policy.attempts) return undefined;
  return backoffMs(attempt, policy, random);
}
