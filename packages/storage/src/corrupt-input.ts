/**
 * A whole file (or row group) that cannot be decoded: bad magic, footer cut off, corrupt
 * pages, an unsupported feature, or a file that cannot be opened. Not retryable. `reason` is
 * the reject reason to record: `truncated_file`, `corrupt_file`, `unsupported_file` or
 * `unreadable_file`. Check `name` as well as `instanceof`.
 */
export class CorruptInputError extends Error {
  override readonly name = 'CorruptInputError';
  constructor(
    readonly file: string,
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isCorruptInput(err: unknown): err is CorruptInputError {
  return err instanceof CorruptInputError || (err as Error | undefined)?.name === 'CorruptInputError';
}
