import { codePointLength } from './text.js';

/**
 * The reference NExtLong chunker `group_segments(text, max_length)` (DESIGN §3.1).
 * Splits on '\n' only; running length counts code points of segments (newlines excluded);
 * a segment that would push the running length strictly past `maxLength` starts a new
 * group; groups made only of empty segments are dropped, except at the very end.
 * A group joined with '\n' is exactly the substring of `text` it spans, so we slice.
 */
export function groupSegments(text: string, maxLength = 2048): string[] {
  const out: string[] = [];
  let groupStart = 0; // UTF-16 index where the current group begins
  let running = 0;
  let hasGroup = false;
  let segStart = 0;
  for (;;) {
    let segEnd = text.indexOf('\n', segStart);
    const last = segEnd === -1;
    if (last) segEnd = text.length;
    const len = codePointLength(text, segStart, segEnd);
    if (hasGroup && running + len > maxLength) {
      if (running !== 0) out.push(text.slice(groupStart, segStart - 1));
      groupStart = segStart;
      running = len;
    } else {
      if (!hasGroup) groupStart = segStart;
      running += len;
    }
    hasGroup = true;
    if (last) break;
    segStart = segEnd + 1;
  }
  if (hasGroup) out.push(text.slice(groupStart));
  return out;
}
