/**
 * JSON for a `<script type="application/json">` block: `<` (so no `</script>` or `<!--` can end
 * or change the block), `>` and `&`, and U+2028/U+2029 are written as \u escapes. JSON.stringify
 * already writes lone surrogates as \u escapes, so the file stays valid UTF-8.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Text for HTML element content or a double-quoted attribute. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
