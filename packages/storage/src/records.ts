import { isUtf8 } from 'node:buffer';
import { BadInputError } from '@nextlong/core';
import type { RawLine } from './line-reader.js';

export interface DocRecord {
  id: string;
  text: string;
}

export interface RecordOptions {
  textField: string;
  idField: string;
  maxRecordChars: number;
  /** Used for the fallback id `<shard>:<line>` when the record has none. */
  shardId: string;
}

/**
 * A line's text, or undefined when its bytes are not valid UTF-8. The same as a fatal
 * TextDecoder (which also drops a leading byte order mark), about a fifth cheaper on docs-a:
 * simdutf validates, then the bytes are decoded once.
 */
export function decodeUtf8(b: Buffer): string | undefined {
  if (!isUtf8(b)) return undefined;
  const bom = b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
  return b.toString('utf8', bom);
}

/**
 * The most bytes one JSONL line may have, from `--max-record-chars`: a text at the limit written
 * with ASCII escapes (Python's json.dumps default: 6 bytes per UTF-16 unit, `\uXXXX`) plus 64 KiB
 * for the other fields. Lines are never buffered past it (readLines), so it bounds memory.
 */
export function maxLineBytes(maxRecordChars: number): number {
  return maxRecordChars * 6 + 65_536;
}

/** Parses and validates one JSONL line; throws BadInputError with the reason. */
export function parseRecord(raw: RawLine, o: RecordOptions): DocRecord {
  const limit = maxLineBytes(o.maxRecordChars);
  const size = raw.overLimit ?? raw.bytes.length;
  if (raw.overLimit !== undefined || size > limit) {
    const how = raw.overLimit === undefined ? '' : '; skipped while reading';
    throw new BadInputError('too_large', `line ${raw.line}: record of ${size} bytes is over ${limit} bytes (--max-record-chars ${o.maxRecordChars})${how}`);
  }
  const s = decodeUtf8(raw.bytes);
  if (s === undefined) throw invalidUtf8(raw.line);
  return parseRecordText(raw.line, s, o);
}

export function invalidUtf8(line: number): BadInputError {
  return new BadInputError('invalid_utf8', `line ${line}: invalid UTF-8`);
}

/** parseRecord of a line already decoded (and within the byte limit). */
export function parseRecordText(line: number, s: string, o: RecordOptions): DocRecord {
  let obj: unknown;
  try {
    obj = JSON.parse(s);
  } catch (err) {
    throw new BadInputError('malformed_json', `line ${line}: malformed JSON (${(err as Error).message})`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new BadInputError('not_an_object', `line ${line}: a record must be a JSON object`);
  }
  const rec = obj as Record<string, unknown>;
  const text = rec[o.textField];
  if (text === undefined) throw new BadInputError('missing_text', `line ${line}: field "${o.textField}" is missing`);
  if (typeof text !== 'string') throw new BadInputError('text_not_string', `line ${line}: field "${o.textField}" is not a string`);
  if (text.trim() === '') throw new BadInputError('empty_text', `line ${line}: field "${o.textField}" is empty`);
  if (text.length > o.maxRecordChars) throw new BadInputError('too_large', `line ${line}: field "${o.textField}" is over ${o.maxRecordChars} characters`);
  const idv = rec[o.idField];
  let id: string;
  if (idv === undefined || idv === null) id = `${o.shardId}:${line}`;
  else if (typeof idv === 'string' || typeof idv === 'number') id = String(idv);
  else throw new BadInputError('bad_id', `line ${line}: field "${o.idField}" must be a string or number`);
  return { id, text };
}
