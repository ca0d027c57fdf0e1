import { ConfigError, DEFAULT_RETRY_BUDGET_MS } from '@nextlong/core';

/**
 * How long transient failures of remote input and storage are retried before the work fails
 * (retryable, for the fleet to try again): DEFAULT_RETRY_BUDGET_MS (rides out a 60 s outage),
 * or NEXTLONG_RETRY_BUDGET_MS. The one place that variable is read; read at each use, so a
 * change to the environment applies to stores already open.
 */
export function retryBudgetMs(env: Record<string, string | undefined> = process.env): number {
  const raw = env.NEXTLONG_RETRY_BUDGET_MS?.trim();
  if (!raw) return DEFAULT_RETRY_BUDGET_MS;
  const ms = Number(raw);
  if (!Number.isFinite(ms) || ms < 0) throw new ConfigError('NEXTLONG_RETRY_BUDGET_MS must be a number of milliseconds (0 or more)');
  return ms;
}
