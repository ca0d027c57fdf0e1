/** An answer of the Qdrant stand-in other than 200: its HTTP status and Qdrant's error text. */
export class StandInError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
