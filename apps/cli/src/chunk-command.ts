import { groupSegments } from '@nextlong/core';
import { forEachRecord, writeLine } from './stdin-records.js';

export interface ChunkOptions {
  chunkChars: number;
  textField: string;
  idField: string;
}

/** `nextlong chunk`: JSONL documents on stdin → one {"id","chunks"} per document on stdout. */
export async function chunkCommand(o: ChunkOptions, input: AsyncIterable<Buffer>, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const bad = await forEachRecord(input, o, err, 'chunk', (id, text) =>
    writeLine(out, JSON.stringify({ id, chunks: groupSegments(text, o.chunkChars) })),
  );
  return bad ? 1 : 0;
}
