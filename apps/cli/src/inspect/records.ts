import type { Readable } from 'node:stream';
import type { SequenceRecord } from '@nextlong/core';
import { zstdDecompress, type StreamingObjectStore } from '@nextlong/storage';

/** An output record as the report reads it; `method` appears when the run recorded one. */
export type ReadRecord = SequenceRecord & { method?: string };

/** Lines of a UTF-8 byte stream, without holding more than one line and one chunk. */
export async function* lines(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  let rest = '';
  for await (const chunk of chunks) {
    rest += decoder.decode(chunk, { stream: true });
    let from = 0;
    let nl: number;
    while ((nl = rest.indexOf('\n', from)) >= 0) {
      if (nl > from) yield rest.slice(from, nl);
      from = nl + 1;
    }
    rest = rest.slice(from);
  }
  rest += decoder.decode();
  if (rest) yield rest;
}

/** The sequence records of one `sequences/part-*.jsonl.zst`, streamed; a bad line names the part and line. */
export async function* partRecords(store: StreamingObjectStore, key: string): AsyncGenerator<ReadRecord> {
  let n = 0;
  for await (const line of lines(zstdDecompress(store.getStream(key) as Readable & AsyncIterable<Buffer>))) {
    n++;
    try {
      yield JSON.parse(line) as ReadRecord;
    } catch (err) {
      throw new Error(`${key} line ${n}: not a JSON record (${(err as Error).message})`);
    }
  }
}

/** First examples of each reject reason (file, line, reason, message), reading at most `maxFiles` reject files. */
export async function rejectExamples(
  store: StreamingObjectStore,
  files: string[],
  perReason = 3,
  maxFiles = 50,
): Promise<{ reason: string; file: string; line: number; shard: string; message: string }[]> {
  const out: { reason: string; file: string; line: number; shard: string; message: string }[] = [];
  const seen = new Map<string, number>();
  for (const key of files.slice(0, maxFiles)) {
    if (!(await store.exists(key))) continue;
    for await (const line of lines(store.getStream(key) as Readable & AsyncIterable<Buffer>)) {
      let r: Record<string, unknown>;
      try {
        r = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue; // a reject log is ours; a torn line of an unfinished shard is skipped
      }
      const reason = String(r.reason ?? 'unknown');
      if ((seen.get(reason) ?? 0) >= perReason) continue;
      seen.set(reason, (seen.get(reason) ?? 0) + 1);
      out.push({
        reason,
        file: String(r.file ?? ''),
        line: Number(r.line ?? 0),
        shard: String(r.shard ?? ''),
        message: String(r.message ?? '').slice(0, 500),
      });
    }
  }
  return out;
}

/** Keys under `prefix`, sorted. */
export async function listKeys(store: StreamingObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of store.list(prefix)) keys.push(k);
  return keys.sort();
}
