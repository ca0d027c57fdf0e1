import type { Readable } from 'node:stream';
import type { ObjectStore } from '@nextlong/core';

/** An ObjectStore with the streaming, ranged and file methods both backends offer. */
export interface StreamingObjectStore extends ObjectStore {
  putStream(key: string, body: Readable, signal?: AbortSignal): Promise<void>;
  getStream(key: string, signal?: AbortSignal): Readable;
  /**
   * Moves the local file `localPath` to `key`: afterwards the file is gone (renamed into a
   * local store, or uploaded and removed).
   */
  putFile(key: string, localPath: string, signal?: AbortSignal): Promise<void>;
  /** Bytes `[start, end)` of the object; `end` defaults to its size; cut short at its end. */
  getRange(key: string, start: number, end?: number, signal?: AbortSignal): Promise<Uint8Array>;
  /** Size in bytes; a missing object is a PermanentError. */
  size(key: string, signal?: AbortSignal): Promise<number>;
}
