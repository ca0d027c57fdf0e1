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
import { ConfigError, PermanentError, RetryableError } from '@nextlong/core';
import type { StreamingObjectStore } from './object-store.js';
import { isNotFound, NETWORK_CODES, THROTTLING, type SdkErrorLike } from './s3-errors.js';
import { createS3Client, parseS3Uri, s3SettingsFromEnv, type S3Settings, type S3StoreOptions } from './s3-config.js';

export * from './s3-config.js';

/**
 * ObjectStore on S3 or an S3-compatible server (MinIO, s3rver), rooted at `s3://bucket/prefix`
 * (DESIGN §5). Settings come from the standard AWS variables; failures are mapped to the
 * error classes of DESIGN §8 with messages that name the operation and `s3://bucket/key` and
 * never carry credentials.
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
    await this.call('put', key, signal, (abortSignal) => this.client.send(cmd, { abortSignal }));
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
      // Small enough to hold: a plain PUT that the SDK can retry from the buffer.
      await this.put(key, await readFile(localPath, { signal }), signal);
    } else {
      await this.upload('putFile', key, createReadStream(localPath), signal, st.size);
    }
    await rm(localPath, { force: true });
  }

  async get(key: string, signal?: AbortSignal): Promise<Uint8Array> {
    const cmd = new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) });
    const out = await this.call('get', key, signal, (abortSignal) => this.client.send(cmd, { abortSignal }));
    return this.readBody('get', key, out, signal);
  }

  /**
   * Bytes `[start, end)` of the object (`end` defaults to its size; a range past the end is
   * cut short, as `slice` does). One ranged GET.
   */
  async getRange(key: string, start: number, end?: number, signal?: AbortSignal): Promise<Uint8Array> {
    checkRange(start, end);
    if (end !== undefined && end === start) return new Uint8Array(0);
    const Range = end === undefined ? `bytes=${start}-` : `bytes=${start}-${end - 1}`;
    let out: GetObjectCommandOutput;
    try {
      signal?.throwIfAborted();
      out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key), Range }), { abortSignal: signal });
    } catch (err) {
      // 416: the range starts at or past the end of the object.
      if ((err as SdkErrorLike).$metadata?.httpStatusCode === 416 && !signal?.aborted) return new Uint8Array(0);
      throw this.fail('getRange', key, err, signal);
    }
    const bytes = await this.readBody('getRange', key, out, signal);
    // A server that ignores Range answers 200 with the whole object.
    if (!out.ContentRange && out.$metadata.httpStatusCode === 200) return bytes.subarray(start, end ?? bytes.length);
    return bytes;
  }

  /** A stream of the object's bytes; failures (mapped as for `get`) arrive as the stream's error. */
  getStream(key: string, signal?: AbortSignal): Readable {
    const self = this;
    async function* chunks(): AsyncGenerator<Buffer> {
      const cmd = new GetObjectCommand({ Bucket: self.bucket, Key: self.objectKey(key) });
      const out = await self.call('getStream', key, signal, (abortSignal) => self.client.send(cmd, { abortSignal }));
      const body = out.Body as Readable | undefined;
      if (!body) return;
      const onAbort = () => body.destroy(signal?.reason as Error);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const chunk of body) yield chunk as Buffer;
      } catch (err) {
        throw self.fail('getStream', key, err, signal);
      } finally {
        signal?.removeEventListener('abort', onAbort);
        body.destroy();
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  /** Size of the object in bytes (HEAD); a missing object is a PermanentError. */
  async size(key: string, signal?: AbortSignal): Promise<number> {
    const cmd = new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) });
    const out = await this.call('size', key, signal, (abortSignal) => this.client.send(cmd, { abortSignal }));
    return out.ContentLength ?? 0;
  }

  async exists(key: string, signal?: AbortSignal): Promise<boolean> {
    try {
      signal?.throwIfAborted();
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), { abortSignal: signal });
      return true;
    } catch (err) {
      if (isNotFound(err) && (err as SdkErrorLike).name !== 'NoSuchBucket' && !signal?.aborted) return false;
      throw this.fail('exists', key, err, signal);
    }
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
      const out = await this.call('list', prefix, signal, (abortSignal) => this.client.send(cmd, { abortSignal }));
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
    try {
      signal?.throwIfAborted();
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), { abortSignal: signal });
    } catch (err) {
      if (isNotFound(err) && (err as SdkErrorLike).name !== 'NoSuchBucket' && !signal?.aborted) return;
      throw this.fail('delete', key, err, signal);
    }
  }

  /** Releases the client's sockets (only a client this store made). */
  close(): void {
    if (this.ownsClient) this.client.destroy();
  }

  // ---- internals ----

  /** Runs one SDK call with the caller's signal, mapping its failure. */
  private async call<T>(
    op: string,
    key: string,
    signal: AbortSignal | undefined,
    fn: (abortSignal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> {
    try {
      signal?.throwIfAborted();
      return await fn(signal);
    } catch (err) {
      throw this.fail(op, key, err, signal);
    }
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
      client: this.client,
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
    } catch (err) {
      throw this.fail(op, key, err, signal);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      body.destroy();
    }
  }

  /**
   * Maps a failure to DESIGN §8: aborts rethrow the signal's reason; throttling, 5xx, timeouts
   * and network errors become RetryableError; other S3 answers (403, 404, 4xx) PermanentError;
   * anything else (a failing source stream, a bug) is returned as it is. Messages name the
   * operation and the object and are scrubbed of credentials; so is the attached cause.
   */
  private fail(op: string, key: string, err: unknown, signal: AbortSignal | undefined): Error {
    if (signal?.aborted) return (signal.reason as Error) ?? err;
    if (err instanceof RetryableError || err instanceof PermanentError || err instanceof ConfigError) return err;
    const e = (err ?? {}) as SdkErrorLike;
    const where = op === 'list' ? `${this.uri(key)}*` : this.uri(key);
    const status = e.$metadata?.httpStatusCode;
    const name = e.name ?? 'Error';
    const attempts = e.$metadata?.attempts && e.$metadata.attempts > 1 ? ` after ${e.$metadata.attempts} attempts` : '';
    const detail = this.scrub(`${status ? `${status} ` : ''}${name}${e.message && e.message !== name ? `: ${e.message}` : ''}`);
    const cause = this.sanitize(e);
    if (name === 'CredentialsProviderError') {
      return new PermanentError(
        `S3 ${op} ${where}: no S3 credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile/role)`,
        { cause },
      );
    }
    if (name === 'AbortError' && !status) {
      // An abort not asked for by the caller: an SDK-side timeout.
      return new RetryableError(`S3 ${op} ${where} failed${attempts}: ${detail}`, { cause });
    }
    if (status !== undefined) {
      if (status >= 500 || status === 429 || THROTTLING.has(name) || e.$retryable) {
        return new RetryableError(`S3 ${op} ${where} failed${attempts}: ${detail}`, { cause });
      }
      let hint = '';
      if (name === 'NoSuchBucket') hint = ` (no bucket "${this.bucket}")`;
      else if (status === 404) hint = ' (no such object)';
      else if (status === 403) hint = ' (access denied: check the S3 credentials and the bucket policy)';
      return new PermanentError(`S3 ${op} ${where} failed: ${detail}${hint}`, { cause });
    }
    // The SDK wraps errors from another realm (jest's VM) as "AWS SDK error wrapper for Error: connect ECONNREFUSED ...".
    const code = e.code ?? /\b(E[A-Z_]{3,}|UND_ERR_[A-Z_]+)\b/.exec(e.message ?? '')?.[1];
    if ((code && NETWORK_CODES.has(code)) || name === 'TimeoutError' || e.$retryable) {
      return new RetryableError(`S3 ${op} ${where} failed${attempts}: ${detail}`, { cause });
    }
    return err instanceof Error ? err : new Error(this.scrub(String(err)));
  }

  private scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  }

  /** A plain copy of an SDK error (name, code, status, request id, message, stack) with credentials scrubbed. */
  private sanitize(e: SdkErrorLike): Error {
    const copy = new Error(this.scrub(e.message ?? String(e)));
    copy.name = e.name ?? 'Error';
    if (e.stack) copy.stack = this.scrub(e.stack);
    return Object.assign(copy, {
      ...(e.code ? { code: e.code } : {}),
      ...(e.$metadata?.httpStatusCode ? { httpStatusCode: e.$metadata.httpStatusCode } : {}),
      ...(e.$metadata?.requestId ? { requestId: e.$metadata.requestId } : {}),
    });
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
