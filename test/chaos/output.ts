import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { openObjectStore, type StreamingObjectStore } from '@nextlong/storage';
import { fixturePath } from '@nextlong/testing';
import { compress, decompress } from 'zstd-napi';
import { Procs, within } from './harness.js';

// The corpus of every trial, the uninterrupted reference run, and the checks of a trial's output.

export interface Corpus {
  /** `s3://corpus/in`: a plain JSONL file and a .jsonl.zst file. */
  input: string;
  /** Records in the corpus, counted here from the bytes uploaded (not by the pipeline). */
  records: number;
}

/** The run flags every trial and the reference share (the coordinator adds --redis and --out). */
export const runFlags = (c: Corpus) => ['--input', c.input, '--target-tokens', '8192', '--shard-docs', '10', '--seed', '1'];

export async function uploadCorpus(s3env: Record<string, string>): Promise<Corpus> {
  const lines = (await readFile(fixturePath('docs-a.slice.jsonl'), 'utf8')).split('\n').filter((l) => l.trim() !== '');
  const files: Record<string, Buffer> = {
    'a.jsonl': Buffer.from(lines.slice(0, 60).join('\n') + '\n'),
    'b.jsonl.zst': compress(Buffer.from(lines.slice(60).join('\n') + '\n')),
  };
  const input = 's3://corpus/in';
  const store = openObjectStore(input, { env: s3env });
  let records = 0;
  for (const [name, bytes] of Object.entries(files)) {
    await store.put(name, bytes);
    const text = (name.endsWith('.zst') ? decompress(bytes) : bytes).toString('utf8');
    records += text.split('\n').filter((l) => l.trim() !== '').length;
  }
  return { input, records };
}

export interface Output {
  /** Decompressed `sequences/part-*.jsonl.zst`, by file name. */
  parts: Record<string, string>;
  manifest?: { counts: Record<string, unknown> & { documents_read?: number; sequences_written?: number } };
}

export async function readOutput(store: StreamingObjectStore): Promise<Output> {
  const parts: Record<string, string> = {};
  for await (const k of store.list('sequences/')) {
    if (k.endsWith('.jsonl.zst')) parts[path.posix.basename(k)] = decompress(Buffer.from(await store.get(k))).toString('utf8');
  }
  const manifest = (await store.exists('manifest.json'))
    ? (JSON.parse(Buffer.from(await store.get('manifest.json')).toString('utf8')) as Output['manifest'])
    : undefined;
  return { parts, manifest };
}

/** `nextlong run` with the same flags, uninterrupted, straight on s3rver, into a local folder. */
export async function referenceRun(corpus: Corpus, s3env: Record<string, string>, dir: string): Promise<Output> {
  const procs = new Procs();
  const out = path.join(dir, 'reference');
  const p = procs.start('reference', ['run', ...runFlags(corpus), '--out', out, '--concurrency', '1'], { ...process.env, ...s3env });
  const code = await within(p.exit, 120_000);
  await procs.killAll();
  if (code !== 0) throw new Error(`reference run failed (${code}):\n${procs.tails(40)}`);
  const ref = await readOutput(openObjectStore(out));
  if (Object.keys(ref.parts).length === 0 || ref.manifest?.counts.documents_read !== corpus.records) {
    throw new Error(
      `reference run is not usable: ${Object.keys(ref.parts).length} parts, documents_read ${ref.manifest?.counts.documents_read} of ${corpus.records}`,
    );
  }
  return ref;
}

export interface Verdict {
  identical: boolean;
  lost: number;
  duplicated: number;
  /** Why it is not identical, in words. */
  problems: string[];
}

const idsOf = (parts: Record<string, string>) =>
  Object.values(parts)
    .flatMap((t) => t.split('\n'))
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { id: string }).id);

/** A trial's output against the reference: same parts byte for byte, counts, every id exactly once. */
export function verify(got: Output, ref: Output, corpus: Corpus): Verdict {
  const problems: string[] = [];
  const want = new Set(idsOf(ref.parts));
  const ids = idsOf(got.parts);
  const seen = new Set(ids);
  const lost = [...want].filter((id) => !seen.has(id)).length;
  const duplicated = ids.length - seen.size;
  const names = (o: Output) => Object.keys(o.parts).sort().join(',');
  if (names(got) !== names(ref)) problems.push(`parts differ: got [${names(got)}], want [${names(ref)}]`);
  else for (const [n, text] of Object.entries(ref.parts)) if (got.parts[n] !== text) problems.push(`${n} differs from the reference`);
  if (!got.manifest) problems.push('no manifest.json');
  else {
    const read = got.manifest.counts.documents_read;
    if (read !== corpus.records) problems.push(`documents_read ${read}, the corpus holds ${corpus.records}`);
    for (const [k, v] of Object.entries(ref.manifest!.counts)) {
      if (JSON.stringify(got.manifest.counts[k]) !== JSON.stringify(v))
        problems.push(`manifest ${k} ${JSON.stringify(got.manifest.counts[k])}, reference ${JSON.stringify(v)}`);
    }
  }
  if (lost) problems.push(`${lost} sequence id(s) lost`);
  if (duplicated) problems.push(`${duplicated} sequence id(s) duplicated`);
  return { identical: problems.length === 0, lost, duplicated, problems };
}

/** Removes every object under the store's prefix (the "output folder deleted" fault). */
export async function deleteAll(store: StreamingObjectStore): Promise<number> {
  const keys: string[] = [];
  for await (const k of store.list('')) keys.push(k);
  for (const k of keys) await store.delete(k);
  return keys.length;
}
