/** Error classes of DESIGN §8. Check `name` as well as `instanceof` (errors cross realms and queues). */

/** Transient failure (network, 5xx, timeout): the shard is retried with backoff. */
export class RetryableError extends Error {
  override readonly name = 'RetryableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Failure that retrying cannot fix: the shard fails at once. */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** One bad input record: it goes to rejects with its reason, the shard goes on. */
export class BadInputError extends Error {
  override readonly name = 'BadInputError';
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** Invalid configuration or usage: reported before any work starts (exit status 2). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function isRetryable(err: unknown): boolean {
  return err instanceof RetryableError || (err as Error | undefined)?.name === 'RetryableError';
}

export function isPermanent(err: unknown): boolean {
  return err instanceof PermanentError || (err as Error | undefined)?.name === 'PermanentError';
}

export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof ConfigError || (err as Error | undefined)?.name === 'ConfigError';
}
