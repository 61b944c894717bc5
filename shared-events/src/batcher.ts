// Group commit: writes that need not be on a request's path (projections, marks, releases) are
// queued and sent together. One batch is in flight at a time; whatever is queued while it is
// waits for the next one, so the round trips per item fall as the load rises, and a lone item
// is written at once (after the current turn of the event loop, so that the items of one burst
// of work share their batch).

/**
 * The most items of one batch. Each batch is one command, and the embedded FerretDB (1.24, SQLite)
 * keeps every statement's query of an update command open until the command ends, each on one of
 * its database's 100 SQLite connections: an update command of 100 statements or more waits for a
 * connection that only its own end frees, and every command on that database waits behind it until
 * the driver's socket timeout.
 */
export const MAX_BATCH = 50;

export class Batcher<T> {
  private queue: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private running: Promise<void> | undefined;

  /**
   * @param write sends one batch; when it throws, every item of the batch is rejected.
   * @param maxBatch the most items sent in one batch.
   */
  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly maxBatch = MAX_BATCH,
  ) {}

  /** Queues the item; settles once its batch is written (or failed). */
  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.running ??= this.drain();
    });
  }

  /** How many items wait for a batch. */
  get pending(): number {
    return this.queue.length;
  }

  /** Settles once everything queued so far has been written or has failed. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          await this.write(batch.map(({ item }) => item));
          for (const { resolve } of batch) resolve();
        } catch (error) {
          for (const { reject } of batch) reject(error);
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
