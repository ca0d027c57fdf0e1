/** The one export of `stopword` (MIT, no bundled types) that rake.ts uses: its English stop list. */
declare module 'stopword' {
  export const eng: string[];
}
