/** The error `p` rejects with (fails the test when it resolves). */
export async function rejectionOf(p: Promise<unknown>): Promise<Error & { status?: number; cause?: unknown }> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/**
 * GPT-2's bytes_to_unicode written out from its definition, independently of the production
 * code it checks: byte → printable symbol of byte-level BPE vocabularies.
 */
export function gpt2SymbolOfByte(): string[] {
  const bs: number[] = [];
  for (let b = '!'.charCodeAt(0); b <= '~'.charCodeAt(0); b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++)
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  const out: string[] = [];
  bs.forEach((b, i) => (out[b] = String.fromCodePoint(cs[i]!)));
  return out;
}
