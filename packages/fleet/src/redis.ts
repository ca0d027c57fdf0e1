import { Redis } from 'ioredis';
import { backoffMs, ConfigError, logger, reportRetry } from '@nextlong/core';
import { metrics } from '@nextlong/metrics';

/** How long a command waits for Redis at start before it gives up (NEXTLONG_REDIS_CONNECT_TIMEOUT_MS). */
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 30_000;

export interface RedisLinkOptions {
  /** Once connected, give up when Redis stays unreachable this long; unset: retry for ever. */
  outageBudgetMs?: number;
  /** How long `ready()` waits for Redis at start (default 30 s); one attempt gets a third of it, 1–10 s. */
  connectTimeoutMs?: number;
  /** Lines about outages ending ("redis reachable again"); retries go through reportRetry. */
  log?: (line: string) => void;
}

/**
 * A connection for BullMQ from a `redis://` or `rediss://` (TLS) URL, with password if any,
 * that says what goes wrong: an outage is one `retry redis` line (and a count in
 * `nextlong_retries_total`), not a stack trace per attempt; authentication and TLS errors are
 * fatal (`fatal`, a ConfigError) and stop every reconnection; with `outageBudgetMs`, an outage
 * longer than that ends the connection (`gaveUp`). Connections BullMQ duplicates from `client`
 * share its retry strategy and so this state.
 */
export class RedisLink {
  readonly client: Redis;
  readonly where: string;
  fatal?: ConfigError;
  gaveUp?: Error;
  /** Since when Redis has been unreachable (ms epoch); undefined while connected. */
  outageSince?: number;
  private lastReason = 'unreachable';
  private everReady = false;
  private readonly fatalListeners = new Set<(e: ConfigError) => void>();
  private readonly log: (line: string) => void;
  private readonly startTimeoutMs: number;

  constructor(
    readonly url: string,
    private readonly o: RedisLinkOptions = {},
  ) {
    this.startTimeoutMs = o.connectTimeoutMs ?? DEFAULT_REDIS_CONNECT_TIMEOUT_MS;
    this.where = redactRedisUrl(url);
    this.log = o.log ?? ((l) => logger().info(l));
    // BullMQ needs maxRetriesPerRequest null: its blocking commands must not time out
    this.client = new Redis(url, {
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      lazyConnect: false,
      connectTimeout: Math.max(1000, Math.min(10_000, Math.floor(this.startTimeoutMs / 3))),
      retryStrategy: (times) => this.nextAttempt(times),
    });
    this.client.on('error', (err: Error) => this.noteError(err));
    this.client.on('ready', () => {
      this.everReady = true;
      // a server that dies closes the socket without an error: that is the reason until another comes
      this.lastReason = 'connection_lost';
      if (this.outageSince !== undefined) this.log(`redis reachable again at ${this.where} after ${((Date.now() - this.outageSince) / 1000).toFixed(0)} s`);
      this.outageSince = undefined;
    });
  }

  /** Whether the main connection is up now. */
  get up(): boolean {
    return this.client.status === 'ready';
  }

  /** Records an error of this connection or of one BullMQ duplicated from it. */
  noteError(err: unknown): void {
    const fatal = fatalRedisError(err, this.where);
    if (fatal && !this.fatal) {
      this.fatal = fatal;
      for (const l of this.fatalListeners) l(fatal);
    }
    this.lastReason = reasonOf(err);
  }

  /** Calls `fn` once when an authentication or TLS error ends this link. */
  onFatal(fn: (e: ConfigError) => void): void {
    if (this.fatal) fn(this.fatal);
    else this.fatalListeners.add(fn);
  }

  /** The error that ended this link, if any: fatal first, then a spent outage budget. */
  get failure(): Error | undefined {
    return this.fatal ?? this.gaveUp;
  }

  /** Outage budget check, also called by pollers that do not wait on a command. */
  checkOutage(now = Date.now()): void {
    const budget = this.o.outageBudgetMs;
    if (budget === undefined || this.outageSince === undefined || this.gaveUp) return;
    if (now - this.outageSince > budget) {
      this.gaveUp = new Error(
        `redis at ${this.where} unreachable for ${Math.round((now - this.outageSince) / 1000)} s (${this.lastReason}); giving up. ` +
          'Start the same command again when Redis is back: it continues from the done markers',
      );
    }
  }

  private nextAttempt(times: number): number | null {
    if (this.fatal) return null;
    const now = Date.now();
    this.checkOutage(now);
    if (this.gaveUp) return null;
    const delayMs = backoffMs(times, { baseMs: 250, maxMs: 5000 });
    if (this.outageSince === undefined) {
      this.outageSince = now;
      // one line per outage; every further attempt is only counted
      reportRetry({ target: 'redis', reason: this.lastReason, attempt: times, delayMs, what: `redis unreachable at ${this.where}, retrying…` });
    } else {
      metrics.retries.inc({ target: 'redis', reason: this.lastReason });
    }
    return delayMs;
  }

  /**
   * Resolves once connected; rejects with a ConfigError on an authentication or TLS error, or
   * when Redis cannot be reached within `connectTimeoutMs` (a command never waits silently at start).
   */
  async ready(): Promise<void> {
    const timeoutMs = this.startTimeoutMs;
    if (this.up) return;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.client.off('ready', onReady);
        this.fatalListeners.delete(onFatal);
        if (err) reject(err);
        else resolve();
      };
      const onReady = () => done();
      const onFatal = (e: ConfigError) => done(e);
      const timer = setTimeout(() => done(new ConfigError(this.unreachableMessage(timeoutMs))), timeoutMs);
      this.client.on('ready', onReady);
      this.onFatal(onFatal);
    });
  }

  private unreachableMessage(timeoutMs: number): string {
    const tls = /^rediss:/i.test(this.url) && this.lastReason === 'ETIMEDOUT' && !this.everReady;
    const hint = tls ? ': no TLS handshake completed — is that a TLS port? (rediss:// needs Redis with TLS; use redis:// for a plain port)' : '';
    return `cannot connect to Redis at ${this.where} within ${Math.round(timeoutMs / 1000)} s (${this.lastReason})${hint}`;
  }

  /** Closes the connection at once (no QUIT round trip: Redis may be gone). */
  close(): void {
    this.client.disconnect();
  }
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

/**
 * Authentication and TLS errors, which no retry can fix: a ConfigError whose one line names
 * the server (password redacted) and the cause; undefined for anything else.
 */
export function fatalRedisError(err: unknown, where: string): ConfigError | undefined {
  const e = err as { message?: string; code?: string } | undefined;
  const msg = String(e?.message ?? '');
  const code = typeof e?.code === 'string' ? e.code : '';
  const first = msg.split('\n')[0]!.slice(0, 200);
  if (/^(WRONGPASS|NOAUTH|NOPERM)\b/.test(msg) || /^ERR (invalid password|AUTH )/i.test(msg)) {
    const what = msg.split(/\s/)[0];
    return new ConfigError(`Redis at ${where} refused authentication (${what}): check the user and password in --redis / REDIS_URL`);
  }
  if (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || /certificate|SSL routines|wrong version number|tlsv1 alert/i.test(msg)) {
    return new ConfigError(`TLS connection to Redis at ${where} failed (${code || 'TLS'}): ${first}`);
  }
  return undefined;
}

/** Connection-level errors that an outage explains (logged once per outage, not per attempt). */
export function isRedisConnectionError(err: unknown): boolean {
  const e = err as { message?: string; code?: string } | undefined;
  return /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/.test(e?.code ?? '') || /Connection is closed|connect ETIMEDOUT|Command aborted due to connection close/i.test(e?.message ?? '');
}

function reasonOf(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown; message?: string } | undefined;
  if (typeof e?.code === 'string' && /^[A-Z_]+$/.test(e.code)) return e.code;
  const word = /^([A-Z]{4,})\b/.exec(e?.message ?? '')?.[1];
  return word ?? (typeof e?.name === 'string' ? e.name : 'error');
}

/** The URL for messages: the password never appears. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/)([^@/]*)@/i, (_, scheme: string, auth: string) => `${scheme}${auth.includes(':') ? `${auth.split(':')[0]}:***` : '***'}@`);
}

/** Positive milliseconds from an environment variable, or `dflt`; anything else is a ConfigError. */
export function envMs(name: string, dflt: number, scale = 1, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${name} must be a positive number (got "${raw}")`);
  return n * scale;
}
