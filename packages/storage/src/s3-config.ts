import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { ConfigError, retryBudgetMs } from '@nextlong/core';

/** S3 locations and client settings from the standard AWS environment (DESIGN §5). */

export type Env = Record<string, string | undefined>;

/** Where a `s3://bucket/prefix` URI points; `prefix` has no leading or trailing `/` ('' for the bucket root). */
export interface S3Location {
  bucket: string;
  prefix: string;
}

const BUCKET = /^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/;

/** Splits `s3://bucket[/prefix]`; a malformed URI is a ConfigError (before any work starts). */
export function parseS3Uri(uri: string): S3Location {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(uri);
  const shown = redactUri(uri);
  const expected = 'expected s3://<bucket>[/<prefix>] with a bucket name of 3-63 characters from a-z 0-9 . - _';
  if (!m) throw new ConfigError(`invalid S3 URI "${shown}": ${expected}`);
  const bucket = m[1];
  if (!BUCKET.test(bucket)) throw new ConfigError(`invalid S3 URI "${shown}": bad bucket name; ${expected}`);
  const prefix = (m[2] ?? '').replace(/\/+$/, '');
  if (prefix !== '' && prefix.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new ConfigError(`invalid S3 URI "${shown}": the prefix may not hold empty, "." or ".." path segments`);
  }
  return { bucket, prefix };
}

/** Hides anything that looks like user:password@ in a URI that is about to be printed. */
function redactUri(uri: string): string {
  return uri.replace(/^([a-z0-9+.-]+:\/\/)[^/@]*@/i, '$1***@');
}

/** Client settings resolved from an environment (DESIGN §5). */
export interface S3Settings {
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  /** Static credentials when the environment holds them; otherwise the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  maxAttempts: number;
  retryMode: 'standard' | 'adaptive';
  requestChecksumCalculation: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  responseChecksumValidation: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
}

function bool(env: Env, name: string): boolean | undefined {
  const v = env[name]?.trim().toLowerCase();
  if (v === undefined || v === '') return undefined;
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  throw new ConfigError(`${name} must be true or false`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], dflt: T): T {
  const v = env[name]?.trim();
  if (v === undefined || v === '') return dflt;
  const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
  if (!hit) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}`);
  return hit;
}

/**
 * Reads AWS_ENDPOINT_URL(_S3), AWS_REGION (AWS_DEFAULT_REGION, default us-east-1),
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, AWS_MAX_ATTEMPTS (default 1:
 * the SDK's own attempts per call; the store retries transient failures itself, visibly, for
 * up to NEXTLONG_RETRY_BUDGET_MS, which is checked here), AWS_RETRY_MODE (standard|adaptive,
 * default standard), NEXTLONG_S3_PATH_STYLE, and
 * AWS_REQUEST_CHECKSUM_CALCULATION / AWS_RESPONSE_CHECKSUM_VALIDATION.
 * With a custom endpoint, path-style addressing is on unless NEXTLONG_S3_PATH_STYLE=false, and
 * checksums default to WHEN_REQUIRED: S3-compatible servers (s3rver, some MinIO, Ceph) store the
 * aws-chunked trailing-checksum framing of streamed uploads as data, corrupting the object.
 */
export function s3SettingsFromEnv(env: Env = process.env): S3Settings {
  const rawEndpoint = (env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL)?.trim() || undefined;
  let endpoint: string | undefined;
  if (rawEndpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(rawEndpoint);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new ConfigError('AWS_ENDPOINT_URL must be an http:// or https:// URL');
    }
    if (url.username || url.password) {
      throw new ConfigError('AWS_ENDPOINT_URL must not hold credentials; use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    }
    endpoint = rawEndpoint;
  }
  const region = env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || 'us-east-1';
  const pathStyle = bool(env, 'NEXTLONG_S3_PATH_STYLE');
  const maxRaw = env.AWS_MAX_ATTEMPTS?.trim();
  const maxAttempts = maxRaw ? Number(maxRaw) : 1;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 20) {
    throw new ConfigError('AWS_MAX_ATTEMPTS must be an integer from 1 to 20');
  }
  retryBudgetMs(env); // a bad value is reported at start, not at the first retry
  const checksumDefault = endpoint ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED';
  const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim();
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim();
  if (!!accessKeyId !== !!secretAccessKey) {
    throw new ConfigError('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together');
  }
  const sessionToken = env.AWS_SESSION_TOKEN?.trim() || undefined;
  return {
    endpoint,
    region,
    forcePathStyle: endpoint !== undefined ? pathStyle !== false : pathStyle === true,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } : undefined,
    maxAttempts,
    retryMode: oneOf(env, 'AWS_RETRY_MODE', ['standard', 'adaptive'] as const, 'standard'),
    requestChecksumCalculation: oneOf(
      env,
      'AWS_REQUEST_CHECKSUM_CALCULATION',
      ['WHEN_SUPPORTED', 'WHEN_REQUIRED'] as const,
      checksumDefault,
    ),
    responseChecksumValidation: oneOf(
      env,
      'AWS_RESPONSE_CHECKSUM_VALIDATION',
      ['WHEN_SUPPORTED', 'WHEN_REQUIRED'] as const,
      checksumDefault,
    ),
  };
}

/**
 * An S3Client for the settings, keep-alive sockets: SDK retries up to `maxAttempts`, or by
 * `retryStrategy` when given (multipart uploads: see visibleRetryStrategy).
 */
export function createS3Client(s: S3Settings, retryStrategy?: S3ClientConfig['retryStrategy']): S3Client {
  const config: S3ClientConfig = {
    region: s.region,
    forcePathStyle: s.forcePathStyle,
    maxAttempts: s.maxAttempts,
    retryMode: s.retryMode,
    ...(retryStrategy ? { retryStrategy } : {}),
    requestChecksumCalculation: s.requestChecksumCalculation,
    responseChecksumValidation: s.responseChecksumValidation,
    requestHandler: {
      connectionTimeout: 10_000,
      socketTimeout: 120_000,
      httpAgent: { keepAlive: true, maxSockets: 64 },
      httpsAgent: { keepAlive: true, maxSockets: 64 },
    },
  };
  if (s.endpoint) config.endpoint = s.endpoint;
  if (s.credentials) config.credentials = s.credentials;
  return new S3Client(config);
}

export interface S3StoreOptions {
  /** Environment to read the settings from (default process.env). */
  env?: Env;
  /** Settings to use instead of reading `env`. */
  settings?: S3Settings;
  /** A client to use instead of making one (it is not destroyed by `close`). */
  client?: S3Client;
  /** Multipart part size in bytes (default 16 MiB, at least 5 MiB). */
  partSize?: number;
  /** Parts uploaded at once (default 4); memory use is about partSize × queueSize per upload. */
  queueSize?: number;
  /** `put` bodies larger than this go multipart (default 64 MiB). */
  multipartThreshold?: number;
  /** Keys per ListObjectsV2 page (default 1000, the S3 maximum). */
  listPageSize?: number;
}
