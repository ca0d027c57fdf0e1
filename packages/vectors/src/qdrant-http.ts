import { ConfigError, PermanentError, reportRetry, RetryableError, sleep } from '@nextlong/core';

/**
 * The few Qdrant REST calls the adapter makes, over Node's fetch (no SDK: every call takes the
 * caller's AbortSignal, and retries and errors follow DESIGN §8 exactly):
 * - 2xx: the JSON body's `result`;
 * - 5xx, 408, 429, timeouts and network errors (ECONNRESET, ECONNREFUSED, ...): retried with
 *   exponential backoff and jitter, at most `maxRetries` times and while the time spent stays
 *   inside `retryBudgetMs` (a 60 s outage is ridden out); each retry is logged and counted
 *   (`nextlong_retries_total{target="qdrant"}`); then a RetryableError;
 * - any other 4xx: a PermanentError at once (`status` attached), unless the caller lists the
 *   status in `allow` (e.g. 404 when asking whether a collection exists);
 * - an abort by the caller: its reason, never retried.
 * The API key travels only in the `api-key` header; messages and causes are scrubbed of it and
 * the URL is printed without user info.
 */

export interface QdrantHttpOptions {
  url: string;
  apiKey?: string;
  /** Per attempt, until the whole response body is read. */
  timeoutMs: number;
  /** Retries after the first try (so `maxRetries + 1` tries at most). */
  maxRetries: number;
  /** First backoff delay; doubles per retry up to `retryMaxMs` (each with 50-100% jitter). */
  retryBaseMs: number;
  retryMaxMs: number;
  /** No retry starts once this much time has gone by since the first try. */
  retryBudgetMs: number;
}

export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface QdrantReply<T> {
  status: number;
  /** `result` of a 2xx answer. */
  result?: T;
  /** `status.error` of an answer that is not 2xx (or its raw text). */
  error?: string;
}

/** Statuses worth another try: server errors, request timeout, too many requests. */
function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

export class QdrantHttp {
  /** Printable base URL (no user info, no trailing slash). */
  readonly where: string;
  private readonly base: string;

  constructor(private readonly opts: QdrantHttpOptions) {
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch {
      throw new ConfigError(`invalid Qdrant URL "${redactUserInfo(opts.url)}": expected http(s)://host[:port][/prefix]`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new ConfigError(`invalid Qdrant URL "${redactUserInfo(opts.url)}": expected an http:// or https:// URL`);
    }
    const path = u.pathname.replace(/\/+$/, '');
    this.base = `${u.origin}${path}`;
    // User info in the URL would be sent as basic auth by nobody here: keep it out of messages.
    this.where = `${u.protocol}//${u.host}${path}`;
  }

  /** Sends one request (with retries); see the module comment for what throws. */
  async request<T>(
    method: HttpMethod,
    path: string,
    body: unknown,
    opts: { signal?: AbortSignal; allow?: readonly number[] } = {},
  ): Promise<QdrantReply<T>> {
    const { signal } = opts;
    const what = `Qdrant ${method} ${this.where}${path}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let last = '';
    let lastCause: Error | undefined;
    let reason = '';
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      let retryAfterMs = 0;
      try {
        const reply = await this.once<T>(method, path, payload, signal);
        if (reply.status >= 200 && reply.status < 300) return reply;
        if (opts.allow?.includes(reply.status)) return reply;
        const detail = `HTTP ${reply.status}${reply.error ? `: ${truncate(reply.error)}` : ''}`;
        if (!retryableStatus(reply.status)) {
          throw Object.assign(new PermanentError(this.scrub(`${what} failed: ${detail}`)), { status: reply.status });
        }
        last = detail;
        reason = String(reply.status);
        lastCause = undefined;
        retryAfterMs = reply.retryAfterMs;
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if ((err as Error)?.name === 'PermanentError') throw err;
        const e = err as Error & { cause?: { code?: string; message?: string } };
        const timedOut = e?.name === 'TimeoutError';
        last = timedOut ? `timed out after ${this.opts.timeoutMs} ms` : this.scrub(networkDetail(e));
        reason = timedOut ? 'timeout' : (e?.cause?.code ?? e?.name ?? 'network');
        lastCause = this.sanitize(e);
      }
      const delayMs = Math.max(retryAfterMs, this.backoff(attempt));
      if (attempt >= this.opts.maxRetries || Date.now() - started + delayMs > this.opts.retryBudgetMs) {
        const tries = attempt + 1;
        throw new RetryableError(
          `${what} failed after ${tries} ${tries === 1 ? 'try' : 'tries'}: ${last}`,
          lastCause ? { cause: lastCause } : undefined,
        );
      }
      reportRetry({ target: 'qdrant', reason, attempt: attempt + 1, delayMs, what: `${what}: ${last}` });
      await sleep(delayMs, signal);
    }
  }

  private async once<T>(method: HttpMethod, path: string, payload: string | undefined, signal?: AbortSignal) {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (this.opts.apiKey) headers['api-key'] = this.opts.apiKey;
    const res = await fetch(this.base + path, {
      method,
      headers,
      body: payload,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await res.text();
    let json: { result?: T; status?: unknown } | undefined;
    try {
      json = text ? (JSON.parse(text) as typeof json) : undefined;
    } catch {
      json = undefined;
    }
    const ok = res.status >= 200 && res.status < 300;
    if (ok && (json === undefined || typeof json !== 'object' || !('result' in json))) {
      throw Object.assign(
        new PermanentError(this.scrub(`Qdrant ${method} ${this.where}${path}: unexpected answer (HTTP ${res.status}): ${truncate(text)}`)),
        { status: res.status },
      );
    }
    const status = json?.status as { error?: unknown } | string | undefined;
    const error = ok ? undefined : typeof status === 'object' && typeof status?.error === 'string' ? status.error : text;
    const retryAfter = Number(res.headers.get('retry-after'));
    return {
      status: res.status,
      result: ok ? json!.result : undefined,
      error,
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, this.opts.retryMaxMs) : 0,
    };
  }

  private backoff(attempt: number): number {
    const d = Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** attempt);
    return d * (0.5 + 0.5 * Math.random());
  }

  scrub(text: string): string {
    const key = this.opts.apiKey;
    return key ? text.split(key).join('***') : text;
  }

  /** A plain copy of a network error (name, code, message, stack), scrubbed. */
  private sanitize(e: Error & { cause?: { code?: string; message?: string } }): Error {
    const copy = new Error(this.scrub(e?.message ?? String(e)));
    copy.name = e?.name ?? 'Error';
    if (e?.stack) copy.stack = this.scrub(e.stack);
    const code = e?.cause?.code;
    return code ? Object.assign(copy, { code }) : copy;
  }
}

/** `fetch failed` says little: name the socket error underneath (ECONNRESET, UND_ERR_SOCKET, ...). */
function networkDetail(e: Error & { cause?: { code?: string; message?: string } }): string {
  const c = e?.cause;
  if (c?.code || c?.message) return `${c.code ?? 'network error'}${c.message ? `: ${c.message}` : ''}`;
  return e?.message ?? String(e);
}

function truncate(s: string, max = 300): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Hides `user:password@` in a URL about to be printed. */
export function redactUserInfo(url: string): string {
  return url.replace(/^([a-z0-9+.-]+:\/\/)[^/@]*@/i, '$1***@');
}
