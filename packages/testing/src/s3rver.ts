import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An in-process s3rver (a fake S3 on the local filesystem) for tests. Requests are path-style
 * against `http://127.0.0.1:<port>`; s3rver accepts the access key `S3RVER` / secret `S3RVER`.
 */

/** What s3rver (CommonJS, untyped) offers that is used here. */
interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverCtor = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  resetOnClose: boolean;
  vhostBuckets: boolean;
  configureBuckets: { name: string }[];
}) => S3rverInstance;

export interface S3rverHandle {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** The variables a client (this process or a child's environment) needs to reach the server. */
  env: {
    AWS_ENDPOINT_URL: string;
    AWS_REGION: string;
    AWS_ACCESS_KEY_ID: string;
    AWS_SECRET_ACCESS_KEY: string;
  } & Record<string, string>;
  /** The temporary folder that holds the buckets (removed by `stop`). */
  directory: string;
  /** Closes the server and removes its folder; safe to call twice. */
  stop(): Promise<void>;
}

export interface S3rverOptions {
  /** Buckets to create before the server answers (default `['test']`). */
  buckets?: string[];
}

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 (Node 17+)
 * no longer offers, so any truncated listing fails with a 500. Single DES-CBC equals
 * 3DES-CBC (des-ede3-cbc) with the 8-byte key repeated three times, which OpenSSL 3 still has;
 * this maps exactly that call, and only when plain DES is unavailable.
 */
function shimDesForS3rver(): void {
  const crypto = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto') & { __nextlongDesShim?: boolean };
  if (crypto.__nextlongDesShim) return;
  try {
    crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return; // DES works here: nothing to do
  } catch {
    // fall through
  }
  type CipherFactory = (algorithm: string, key: Buffer, iv: Buffer | null, options?: unknown) => unknown;
  const wrap = (orig: CipherFactory): CipherFactory =>
    function (this: unknown, algorithm, key, iv, options) {
      if (typeof algorithm === 'string' && algorithm.toLowerCase() === 'des' && Buffer.isBuffer(key) && key.length === 8) {
        return orig.call(this, 'des-ede3-cbc', Buffer.concat([key, key, key]), iv, options);
      }
      return orig.call(this, algorithm, key, iv, options);
    };
  const c = crypto as unknown as { createCipheriv: CipherFactory; createDecipheriv: CipherFactory };
  c.createCipheriv = wrap(c.createCipheriv);
  c.createDecipheriv = wrap(c.createDecipheriv);
  crypto.__nextlongDesShim = true;
}

/** Starts s3rver on a free port of 127.0.0.1 with a fresh temporary folder and the given buckets. */
export async function startS3rver(opts: S3rverOptions = {}): Promise<S3rverHandle> {
  shimDesForS3rver();
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;
  const directory = await mkdtemp(path.join(os.tmpdir(), 'nextlong-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    resetOnClose: false,
    vhostBuckets: false,
    configureBuckets: (opts.buckets ?? ['test']).map((name) => ({ name })),
  });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  const endpoint = `http://127.0.0.1:${address.port}`;
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    directory,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    },
    stop() {
      stopped ??= (async () => {
        try {
          const closing = server.close();
          // Kept-alive client sockets would otherwise hold close() open.
          server.httpServer?.closeAllConnections();
          await closing;
        } finally {
          await rm(directory, { recursive: true, force: true });
        }
      })();
      return stopped;
    },
  };
}
