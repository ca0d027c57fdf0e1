import { RetryableError, PermanentError, isRetryable } from './errors.js';
import { backoffMs, errorReason, onRetry, setRetryLog, withRetry, type RetryEvent } from './retry.js';

describe('withRetry', () => {
  let lines: string[];
  let events: RetryEvent[];
  let restore: () => void;
  beforeEach(() => {
    lines = [];
    events = [];
    const prev = setRetryLog((l) => lines.push(l));
    const off = onRetry((e) => events.push(e));
    restore = () => (setRetryLog(prev), off());
  });
  afterEach(() => restore());

  const opts = { target: 's3', what: 'GET s3://b/k', retryable: isRetryable, baseMs: 1, maxMs: 2 };

  test('retries a retryable failure until it succeeds, and every retry is visible', async () => {
    let n = 0;
    const v = await withRetry(async () => {
      if (++n < 3) throw Object.assign(new RetryableError('503 ServiceUnavailable'), { $metadata: { httpStatusCode: 503 } });
      return 'ok';
    }, opts);
    expect(v).toBe('ok');
    expect(events.map((e) => [e.target, e.reason, e.attempt])).toEqual([
      ['s3', '503', 1],
      ['s3', '503', 2],
    ]);
    expect(lines[0]).toMatch(/^retry s3 \(503\) attempt 1, next in \d+\.\d s: GET s3:\/\/b\/k: 503 ServiceUnavailable$/);
  });

  test('a permanent failure is thrown at once', async () => {
    let n = 0;
    const err = new PermanentError('403');
    await expect(withRetry(async () => (n++, Promise.reject(err)), opts)).rejects.toBe(err);
    expect(n).toBe(1);
    expect(events).toHaveLength(0);
  });

  test('the budget bounds the time spent: the last error is thrown', async () => {
    let n = 0;
    const t0 = Date.now();
    await expect(
      withRetry(async () => (n++, Promise.reject(new RetryableError(`try ${n}`))), { ...opts, baseMs: 20, maxMs: 20, jitter: 0, budgetMs: 70 }),
    ).rejects.toThrow(/try \d/);
    expect(n).toBeGreaterThanOrEqual(3);
    expect(n).toBeLessThanOrEqual(5);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  test('an abort stops the waiting with the abort reason', async () => {
    const ac = new AbortController();
    const reason = new Error('stop');
    const p = withRetry(async () => Promise.reject(new RetryableError('x')), { ...opts, baseMs: 10_000, maxMs: 10_000, signal: ac.signal });
    setTimeout(() => ac.abort(reason), 10);
    await expect(p).rejects.toBe(reason);
  });
});

test('backoff doubles up to the cap, with jitter inside its share', () => {
  expect(backoffMs(1, { baseMs: 100, jitter: 0 })).toBe(100);
  expect(backoffMs(4, { baseMs: 100, jitter: 0 })).toBe(800);
  expect(backoffMs(30, { baseMs: 100, maxMs: 5000, jitter: 0 })).toBe(5000);
  expect(backoffMs(2, { baseMs: 100, jitter: 0.5 }, () => 0)).toBe(100);
  expect(backoffMs(2, { baseMs: 100, jitter: 0.5 }, () => 1)).toBe(200);
});

test('errorReason: code, then HTTP status, then name', () => {
  expect(errorReason(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
  expect(errorReason({ name: 'InternalError', $metadata: { httpStatusCode: 500 } })).toBe('500');
  expect(errorReason(new RetryableError('x'))).toBe('RetryableError');
});
