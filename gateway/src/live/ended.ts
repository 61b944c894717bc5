/** Why a live subscription ended: its client hears the message and the code, then it completes. */
export class LiveEnded extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}
