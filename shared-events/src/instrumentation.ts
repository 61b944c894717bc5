// What the event plumbing tells whoever measures it (the shared runtime's Prometheus metrics): the
// publishes, the handlings and their outcomes, and where each consumer's and outbox's backlog can
// be read. Nothing is measured until a process installs an instrumentation; the default does nothing.

/** How a delivery was settled: handled, handed back for a retry, dead-lettered, or of no interest here. */
export type ConsumeOutcome = "ack" | "retry" | "dead_letter" | "ignored";

export interface ConsumerBacklogReading {
  /** Messages on the stream the consumer has not been given yet. */
  pending: number;
  /** Messages given out and not acknowledged yet. */
  ackPending: number;
}

export interface OutboxReading {
  /** Entries this process knows are logged and not yet acknowledged by the stream. */
  pending: number;
  /** When the oldest of them was logged (ms since the epoch); undefined when none is. */
  oldestAt: number | undefined;
}

export interface EventsInstrumentation {
  published(subject: string): void;
  publishFailed(subject: string): void;
  /** `seconds`: how long the delivery took to settle, the handler included. */
  consumed(consumer: string, subject: string, outcome: ConsumeOutcome, seconds: number): void;
  /** A delivery that is not the message's first. */
  redelivered(consumer: string, subject: string): void;
  deadLettered(consumer: string, subject: string): void;
  /** A durable consumer runs in this process; returns what to call when it stops. */
  consumerStarted(consumer: string, backlog: () => Promise<ConsumerBacklogReading>): () => void;
  /** An aggregate log's outbox runs in this process; returns what to call when it stops. */
  outboxStarted(log: string, backlog: () => OutboxReading): () => void;
}

const nothing = () => undefined;
const inert: EventsInstrumentation = {
  published: nothing,
  publishFailed: nothing,
  consumed: nothing,
  redelivered: nothing,
  deadLettered: nothing,
  consumerStarted: () => nothing,
  outboxStarted: () => nothing,
};

let current: EventsInstrumentation = inert;

/** Installs the process's instrumentation (once, by the shared runtime); `undefined` removes it. */
export function instrumentEvents(instrumentation: EventsInstrumentation | undefined): void {
  current = instrumentation ?? inert;
}

/** The instrumentation installed, read at each use so that one installed later is heard. */
export function eventsInstrumentation(): EventsInstrumentation {
  return current;
}
