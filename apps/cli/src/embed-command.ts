import type { Embedder } from '@nextlong/core';
import { forEachRecord, OutputClosedError, type RecordFields, writeLine } from './stdin-records.js';

export interface EmbedOptions extends RecordFields {
  /** Texts handed to one embed() call (the run's embed step groups chunks the same way). */
  group: number;
}

/**
 * `nextlong embed`: JSONL documents on stdin → one {"id","vector"} per document on stdout, each
 * text embedded whole as the run embeds a chunk (same embedder, same options). Bad lines are
 * reported on stderr by line number and skipped (exit status 1 if there were any).
 */
export async function embedCommand(
  embedder: Embedder,
  o: EmbedOptions,
  input: AsyncIterable<Buffer>,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  let pending: { id: string; text: string }[] = [];
  const flush = async () => {
    const vectors = await embedder.embed(pending.map((p) => p.text));
    for (let i = 0; i < pending.length; i++) await writeLine(out, JSON.stringify({ id: pending[i].id, vector: Array.from(vectors[i]) }));
    pending = [];
  };
  const bad = await forEachRecord(input, o, err, 'embed', async (id, text) => {
    pending.push({ id, text });
    if (pending.length >= o.group) await flush();
  });
  try {
    if (pending.length) await flush();
  } catch (e) {
    if (!(e instanceof OutputClosedError)) throw e; // `| head` took what it wanted
  }
  return bad ? 1 : 0;
}

/** Flags of `nextlong embed`: the run's embedding settings, the field names and --config. */
export const EMBED_FLAGS = [
  'config',
  'model',
  'embed-pooling',
  'embed-prompt',
  'embed-task',
  'embed-dim',
  'embed-max-tokens',
  'embed-batch',
  'embed-threads',
  'embed-variant',
  'text-field',
  'id-field',
] as const;

/** `nextlong embed <flags>`: settings resolved as for `nextlong run` (flags > NEXTLONG_* > --config > defaults). */
export async function embedMain(flags: Record<string, string | string[] | boolean | undefined>): Promise<number> {
  const { resolveRunConfig } = await import('./config-resolve.js');
  // the run's own resolution and validation; input and out are not used here
  const config = resolveRunConfig({ ...flags, input: ['-'], out: '-' });
  const { createRunEmbedder } = await import('@nextlong/pipeline');
  const embedder = await createRunEmbedder(config);
  try {
    process.stderr.write(`nextlong embed: model ${embedder.name}, ${embedder.dim} dims\n`);
    const o = { textField: config.textField, idField: config.idField, group: config.embedBatch * 4 };
    return await embedCommand(embedder, o, process.stdin, process.stdout, process.stderr);
  } finally {
    await embedder.close();
  }
}
