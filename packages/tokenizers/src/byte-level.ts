/**
 * GPT-2 byte-level alphabet: Llama-3 and Hugging Face byte-level BPE vocabularies spell each
 * byte as a printable code point. These maps turn those strings back into raw bytes.
 */
function buildUnicodeToByte(): Map<string, number> {
  const bytes: number[] = [];
  for (let b = 33; b <= 126; b++) bytes.push(b);
  for (let b = 161; b <= 172; b++) bytes.push(b);
  for (let b = 174; b <= 255; b++) bytes.push(b);
  const chars = bytes.slice();
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(256 + extra++);
    }
  }
  const map = new Map<string, number>();
  bytes.forEach((b, i) => map.set(String.fromCodePoint(chars[i]!), b));
  return map;
}

const unicodeToByte = buildUnicodeToByte();

/** Raw bytes of a byte-level token string; throws on a character outside the alphabet. */
export function byteLevelToBytes(token: string): Buffer {
  const out: number[] = [];
  for (const ch of token) {
    const b = unicodeToByte.get(ch);
    if (b === undefined) throw new Error(`token ${JSON.stringify(token)} is not byte-level BPE`);
    out.push(b);
  }
  return Buffer.from(out);
}

/** The tiktoken ranks text format: one `base64(bytes) rank` per line. */
export function ranksText(tokens: Buffer[]): string {
  return tokens.map((t, i) => `${t.toString('base64')} ${i}`).join('\n');
}
