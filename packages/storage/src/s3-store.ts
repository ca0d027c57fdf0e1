import { createReadStream } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { isRetryable, RetryableError, retryBudgetMs, withRetry } from '@nextlong/core';
import type { StreamingObjectStore } from './store-types.js';
import { isNotFound, mapS3Error, s3RetryReason, type SdkErrorLike } from './s3-errors.js';
import { createS3Client, parseS3Uri, s3SettingsFromEnv, type Env, type S3Settings, type S3StoreOptions } from './s3-config.js';
import { visibleRetryStrategy } from './s3-retry.js';
import { resumableStream } from './s3-stream.js';

export * from './s3-config.js';

/**
 * ObjectStore on S3 or an S3-compatible server (MinIO, s3rver), rooted at `s3://bucket/prefix`
 * (DESIGN §5). Settings come from the standard AWS variables; failures are mapped to the
 * error classes of DESIGN §8 with messages that name the operation and `s3://bucket/key` and
 * never carry credentials. Transient failures are retried here, visibly (a log line and
 * `nextlong_retries_total{target="s3"}` per retry), for up to the retry budget (retryBudgetMs:
 * rides out a 60 s outage); the SDK's own attempts (AWS_MAX_ATTEMPTS) default to one.
 */

const MiB = 1024 * 1024;

/** An S3 store for `s3://bucket/prefix`. */
export class S3ObjectStore implements StreamingObjectStore {
  /** `s3://bucket/prefix`, for messages. */
  readonly root: string;
  readonly bucket: string;
  /** Key prefix inside the bucket, no leading or trailing `/`. */
  readonly prefix: string;
  readonly client: S3Client;
  readonly settings: S3Settings | undefined;
  private readonly ownsClient: boolean;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly multipartThreshold: number;
  private readonly listPageSize: number;
  private readonly secrets: string[];
  private readonly env: Env;
  private uploadClient: S3Client | undefined;

  constructor(uri: string, options: S3StoreOptions = {}) {
    const { bucket, prefix } = parseS3Uri(uri);
    this.bucket = bucket;
    this.prefix = prefix;
    this.root = prefix ? `s3://${bucket}/${prefix}` : `s3://${bucket}`;
    this.partSize = Math.max(5 * MiB, options.partSize ?? 16 * MiB);
    this.queueSize = Math.max(1, options.queueSize ?? 4);
    this.multipartThreshold = Math.max(this.partSize, options.multipartThreshold ?? 64 * MiB);
    this.listPageSize = Math.min(1000, Math.max(1, options.listPageSize ?? 1000));
    const env = options.env ?? process.env;
    this.env = env;
    if (options.client) {
      this.client = options.client;
      this.settings = options.settings;
      this.ownsClient = false;
    } else {
      this.settings = options.settings ?? s3SettingsFromEnv(env);
      this.client = createS3Client(this.settings);
      this.ownsClient = true;
    }
    const c = this.settings?.credentials;
    this.secrets = [
      c?.accessKeyId,
      c?.secretAccessKey,
      c?.sessionToken,
      env.AWS_ACCESS_KEY_ID,
      env.AWS_SECRET_ACCESS_KEY,
      env.AWS_SESSION_TOKEN,
      process.env.AWS_ACCESS_KEY_ID,
      process.env.AWS_SECRET_ACCESS_KEY,
      process.env.AWS_SESSION_TOKEN,
    ].filter((s): s is string => typeof s === 'string' && s.trim().length >= 4);
  }

  /** The bucket key for a store key. */
  objectKey(key: string): string {
    checkKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  /** `s3://bucket/prefix/key`, for messages. */
  uri(key: string): string {
    return `s3://${this.bucket}/${this.prefix ? `${this.prefix}/` : ''}${key}`;
  }

  async put(key: string, body: Uint8Array | string, signal?: AbortSignal): Promise<void> {
    const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (data.byteLength > this.multipartThreshold) {
      await this.upload('put', key, data, signal);
      return;
    }
    const cmd = new PutObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Body: data, ContentLength: data.byteLength });
    await this.retry('put', key, signal, (abortSignal) => this.client.send(cmd, { abortSignal }));
  }

  /** Streams `body` up with a multipart upload (parts of `partSize`, `queueSize` at once). */
  async putStream(key: string, body: Readable, signal?: AbortSignal): Promise<void> {
    await this.upload('putStream', key, body, signal);
  }

  /**
   * Moves a local file to `key`: uploads it, then removes the local file (the same contract
   * as the local store, which renames). Callers must not use `localPath` afterwards.
   */
  async putFile(key: string, localPath: string, signal?: AbortSignal): Promise<void> {
    const st = await stat(localPath);
    if (st.size <= this.multipartThreshold) {
      // Small enough to hold: a plain PUT, retried from the buffer.
      await this.put(key, await readFile(localPath, { signal }), signal);
    } else {
      await this.upload('putFile', key, createReadStream(localPath), signal, st.size);
    }
    await rm(localPath, { force: true });
  }

  async get(key: string, signal?: AbortSignal): Promise<Uint8Array> {
    const cmd = new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) });
    // the body is read inside the retry: a body cut short is fetched again
    return this.retry('get', key, signal, async (abortSignal) =>
      this.readBody('get', key, await this.client.send(cmd, { abortSignal }), abortSignal),
    );
  }

  /**
   * Bytes `[start, end)` of the object (`end` defaults to its size; a range past the end is
   * cut short, as `slice` does). One ranged GET.
   */
  async getRange(key: string, start: number, end?: number, signal?: AbortSignal): Promise<Uint8Array> {
    checkRange(start, end);
    if (end !== undefined && end === start) return new Uint8Array(0);
    const Range = end === undefined ? `bytes=${start}-` : `bytes=${start}-${end - 1}`;
    const cmd = new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Range });
    return this.retry('getRange', key, signal, async (abortSignal) => {
      let out: GetObjectCommandOutput;
      try {
        out = await this.client.send(cmd, { abortSignal });
      } catch (err) {
        // 416: the range starts at or past the end of the object.
        if ((err as SdkErrorLike).$metadata?.httpStatusCode === 416 && !signal?.aborted) return new Uint8Array(0);
        throw err;
      }
      const bytes = await this.readBody('getRange', key, out, abortSignal);
      // A server that ignores Range answers 200 with the whole object.
      if (!out.ContentRange && out.$metadata.httpStatusCode === 200) return bytes.subarray(start, end ?? bytes.length);
      return bytes;
    });
  }

  /**
   * A stream of the object's bytes that resumes a broken download from the last byte received
   * (a ranged GET pinned to the ETag); failures (mapped as for `get`) that outlast the retry
   * budget arrive as the stream's error.
   */
  getStream(key: string, signal?: AbortSignal): Readable {
    const Key = this.objectKey(key);
    return resumableStream({
      open: async (start, etag, abortSignal) => {
        const cmd = new GetObjectCommand({ Bucket: this.bucket, Key, ...(start > 0 ? { Range: `bytes=${start}-`, IfMatch: etag } : {}) });
        try {
          return await this.client.send(cmd, { abortSignal });
        } catch (err) {
          throw this.fail('getStream', key, err, signal);
        }
      },
      fail: (err) => this.fail('getStream', key, err, signal),
      what: `S3 getStream ${this.uri(key)}`,
      budgetMs: () => retryBudgetMs(this.env),
      signal,
    });
  }

  /** Size of the object in bytes (HEAD); a missing object is a PermanentError. */
  async size(key: string, signal?: AbortSignal): Promise<number> {
    const cmd = new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) });
    const out = await this.retry('size', key, signal, (abortSignal) => this.client.send(cmd, { abortSignal }));
    return out.ContentLength ?? 0;
  }

  async exists(key: string, signal?: AbortSignal): Promise<boolean> {
    const cmd = new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) });
    return this.retry('exists', key, signal, async (abortSignal) => {
      try {
        await this.client.send(cmd, { abortSignal });
        return true;
      } catch (err) {
        if (isNotFound(err) && (err as SdkErrorLike).name !== 'NoSuchBucket' && !signal?.aborted) return false;
        throw err;
      }
    });
  }

  /**
   * Keys under the store that start with `prefix`, relative to the store's prefix, sorted as
   * JavaScript sorts strings (the local store's order). All pages are read before the first key.
   */
  async *list(prefix: string, signal?: AbortSignal): AsyncIterable<string> {
    const base = this.prefix ? `${this.prefix}/` : '';
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const cmd = new ListObjectsV2Command({ Bucket: this.bucket, Prefix: base + prefix, ContinuationToken, MaxKeys: this.listPageSize });
      const out = await this.retry('list', prefix, signal, (abortSignal) => this.client.send(cmd, { abortSignal }));
      for (const o of out.Contents ?? []) {
        if (!o.Key || !o.Key.startsWith(base) || o.Key.endsWith('/')) continue;
        keys.push(o.Key.slice(base.length));
      }
      ContinuationToken = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (ContinuationToken);
    keys.sort();
    for (const k of keys) yield k;
  }

  async delete(key: string, signal?: AbortSignal): Promise<void> {
    const cmd = new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) });
    await this.retry('delete', key, signal, async (abortSignal) => {
      try {
        await this.client.send(cmd, { abortSignal });
      } catch (err) {
        if (isNotFound(err) && (err as SdkErrorLike).name !== 'NoSuchBucket' && !signal?.aborted) return;
        throw err;
      }
    });
  }

  /** Releases the clients' sockets (only clients this store made). */
  close(): void {
    if (this.ownsClient) this.client.destroy();
    this.uploadClient?.destroy();
  }

  // ---- internals ----

  /**
   * Runs one SDK call with the caller's signal, mapping its failure; transient failures are
   * retried with backoff and jitter, each retry reported, within the retry budget.
   */
  private retry<T>(
    op: string,
    key: string,
    signal: AbortSignal | undefined,
    fn: (abortSignal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> {
    const what = `S3 ${op}`; // (the error message names the object)
    return withRetry(
      async () => {
        try {
          signal?.throwIfAborted();
          return await fn(signal);
        } catch (err) {
          throw this.fail(op, key, err, signal);
        }
      },
      { target: 's3', what, retryable: isRetryable, reasonOf: s3RetryReason, budgetMs: retryBudgetMs(this.env), signal },
    );
  }

  /**
   * The client multipart uploads use: parts can only be resent by the SDK, so its retries are
   * the visible, budgeted ones of visibleRetryStrategy (one client per store, made on first use).
   */
  private uploader(): S3Client {
    if (!this.ownsClient || !this.settings) return this.client;
    this.uploadClient ??= createS3Client(
      this.settings,
      visibleRetryStrategy(`S3 upload to ${this.root}`, () => retryBudgetMs(this.env)),
    );
    return this.uploadClient;
  }

  private async upload(
    op: string,
    key: string,
    body: Uint8Array | Readable,
    signal: AbortSignal | undefined,
    length?: number,
  ): Promise<void> {
    const Key = this.objectKey(key);
    const controller = new AbortController();
    const upload = new Upload({
      client: this.uploader(),
      params: { Bucket: this.bucket, Key, Body: body, ...(length !== undefined ? { ContentLength: length } : {}) },
      partSize: this.partSize,
      queueSize: this.queueSize,
      leavePartsOnError: false,
      abortController: controller,
    });
    const onAbort = () => {
      controller.abort();
      if (body instanceof Readable) body.destroy();
    };
    try {
      signal?.throwIfAborted();
      signal?.addEventListener('abort', onAbort, { once: true });
      await upload.done();
    } catch (err) {
      if (body instanceof Readable && !body.destroyed) body.destroy();
      throw this.fail(op, key, err, signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The whole body of a GET; one that ends short of its Content-Length is a RetryableError. */
  private async readBody(op: string, key: string, out: GetObjectCommandOutput, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const body = out.Body as Readable | undefined;
    if (!body) return new Uint8Array(0);
    const onAbort = () => body.destroy(signal?.reason as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const parts: Buffer[] = [];
      let n = 0;
      for await (const chunk of body) {
        parts.push(chunk as Buffer);
        n += (chunk as Buffer).length;
      }
      if (out.ContentLength !== undefined && n !== out.ContentLength) {
        throw new RetryableError(`S3 ${op} ${this.uri(key)}: the response ended after ${n} of ${out.ContentLength} bytes`);
      }
      const buf = parts.length === 1 ? parts[0] : Buffer.concat(parts, n);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      body.destroy();
    }
  }

  /** Maps a failure to DESIGN §8 (see mapS3Error), naming the operation and the object. */
  private fail(op: string, key: string, err: unknown, signal: AbortSignal | undefined): Error {
    return mapS3Error(this, op, op === 'list' ? `${this.uri(key)}*` : this.uri(key), err, signal);
  }

  /** `text` with this store's credentials replaced by `***`. */
  scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  }
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key === '' || key.startsWith('/') || key.split('/').some((s) => s === '.' || s === '..')) {
    throw new Error(`object key escapes the store or is empty: ${JSON.stringify(key)}`);
  }
}

/** Validates `[start, end)` for getRange. */
export function checkRange(start: number, end: number | undefined): void {
  if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) {
    throw new RangeError(`bad byte range [${start}, ${end ?? ''}): want integers with 0 <= start <= end`);
  }
}
