import { readLines } from '@nextlong/storage';

export interface RecordFields {
  textField: string;
  idField: string;
}

/**
 * The JSONL filters' input (`nextlong chunk`, `nextlong embed`): calls `each` with the id and text
 * of every record in order (a record without an id gets `stdin:<line>`); a bad line is reported
 * on `err` by line number and skipped. Returns the number of bad lines.
 */
export async function forEachRecord(
  input: AsyncIterable<Buffer>,
  o: RecordFields,
  err: NodeJS.WritableStream,
  command: string,
  each: (id: string, text: string) => Promise<void> | void,
): Promise<number> {
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
      err.write(`nextlong ${command}: line ${raw.line}: ${(e as Error).message}\n`);
      continue;
    }
    const idv = rec[o.idField];
    try {
      await each(typeof idv === 'string' || typeof idv === 'number' ? String(idv) : `stdin:${raw.line}`, rec[o.textField] as string);
    } catch (e) {
      if (e instanceof OutputClosedError) break; // `nextlong chunk | head`: nobody reads the rest
      throw e;
    }
  }
  if (bad) err.write(`nextlong ${command}: ${bad} bad line(s) skipped\n`);
  return bad;
}

/** The reader of a filter's output went away (`nextlong embed | head`): the filter stops, as Unix tools do. */
export class OutputClosedError extends Error {
  constructor() {
    super('output closed by its reader');
  }
}

// a stream's first error: without a listener an EPIPE would crash the process with a stack trace
const failed = new WeakMap<NodeJS.WritableStream, Error>();
const watched = new WeakSet<NodeJS.WritableStream>();

/**
 * Writes a line to `out`, waiting for 'drain' when its buffer is full. Throws OutputClosedError
 * once the reader has closed the pipe (EPIPE), or the stream's error.
 */
export async function writeLine(out: NodeJS.WritableStream, line: string): Promise<void> {
  if (!watched.has(out)) {
    watched.add(out);
    out.on('error', (e: NodeJS.ErrnoException) => failed.set(out, e.code === 'EPIPE' ? new OutputClosedError() : e));
  }
  let err = failed.get(out);
  if (err) throw err;
  if (!out.write(`${line}\n`)) {
    await new Promise<void>((resolve) => {
      const done = () => {
        out.off('drain', done);
        out.off('error', done);
        resolve();
      };
      out.on('drain', done);
      out.on('error', done);
    });
    err = failed.get(out);
    if (err) throw err;
  }
}
