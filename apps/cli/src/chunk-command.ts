import { groupSegments } from '@nextlong/core';
import { readLines } from '@nextlong/storage';

export interface ChunkOptions {
  chunkChars: number;
  textField: string;
  idField: string;
}

/** `nextlong chunk`: JSONL documents on stdin → one {"id","chunks"} per document on stdout. */
export async function chunkCommand(o: ChunkOptions, input: AsyncIterable<Buffer>, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let bad = 0;
  for await (const raw of readLines(input)) {
    if (raw.bytes.length === 0) continue;
    let rec: Record<string, unknown>;
    try {
      const v: unknown = JSON.parse(utf8.decode(raw.bytes));
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('a record must be a JSON object');
      rec = v as Record<string, unknown>;
      if (typeof rec[o.textField] !== 'string') throw new Error(`field "${o.textField}" is missing or not a string`);
    } catch (e) {
      bad++;
      err.write(`nextlong chunk: line ${raw.line}: ${(e as Error).message}\n`);
      continue;
    }
    const idv = rec[o.idField];
    const id = typeof idv === 'string' || typeof idv === 'number' ? String(idv) : `stdin:${raw.line}`;
    const ok = out.write(JSON.stringify({ id, chunks: groupSegments(rec[o.textField] as string, o.chunkChars) }) + '\n');
    if (!ok) await new Promise((r) => out.once('drain', r));
  }
  if (bad) err.write(`nextlong chunk: ${bad} bad line(s) skipped\n`);
  return bad ? 1 : 0;
}
