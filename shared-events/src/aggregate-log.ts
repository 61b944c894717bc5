// The aggregate log: commit, optimistic-concurrency check and outbox in one insert.
//
// Each change to an aggregate is an insert of its next event keyed `<aggregateId>:<version>`.
// The unique _id is the compare-and-set (the one that holds on FerretDB and MongoDB alike):
// of two writers deciding from version n, exactly one inserts n+1. That insert is the only write
// on a command's path (docs/adr/0004-two-writes-per-reservation.md): the event is then published
// (awaited, so it is on the stream when the command answers), and the projection document queries
// read, and the log's "projected" and "published" marks, are written in batches behind it.
// Decisions start from the newest state this process holds of the aggregate, which can only be
// behind the log: a stale one collides on the insert and the command decides again from the
// database. A crash at any point only delays a projection or an event; nothing is lost or forked,
// and no transaction is needed.
import { randomUUID } from "node:crypto";
import type { Collection, Filter, OptionalUnlessRequiredId, WithId } from "mongodb";
import type { Logger } from "pino";
import {
  validatePayload,
  type Change,
  type Envelope,
  type EnvelopeHeader,
  type Subject,
} from "./catalogue.js";
import { Batcher } from "./batcher.js";
import { eventsInstrumentation, type OutboxReading } from "./instrumentation.js";
import { isDuplicateKey } from "./mongo.js";
import type { Publisher } from "./publisher.js";
import { currentTraceCarrier, type TraceCarrier } from "./tracing.js";

/**
 * A log document as stored, for the owner's schema of its log collection; `LogEntry` is the same
 * document with its subject and data paired.
 */
export interface LogDocument {
  _id: string;
  eventId: string;
  aggregateId: string;
  version: number;
  subject: Subject;
  data: unknown;
  occurredAt: Date;
  causationId: string | null;
  requestId: string | null;
  /** The trace context of the command that logged it, so that its publish, even a republish after a crash, joins that trace. */
  trace?: TraceCarrier | null;
  published: boolean;
  projected: boolean;
}

/** One logged event of an aggregate whose log holds the subjects `S`. */
export type LogEntry<S extends Subject = Subject> = Change<S> & Omit<LogDocument, "subject" | "data">;

/**
 * The indexes the sweeps query a log by (pending projections, pending events oldest first), for the
 * owner's schema of its log. Every other read and write of the log is by `_id`.
 */
export const LOG_INDEXES: readonly { readonly [K in keyof LogDocument]?: 1 }[] = [
  { aggregateId: 1, version: 1 },
  { published: 1, occurredAt: 1 },
  { projected: 1 },
];

/** The state a projection keeps; `version` is the log version it reflects. */
export interface AggregateState {
  version: number;
}

/** How many causation ids a projection remembers, newest last (see `execute`). */
const REMEMBERED_CAUSES = 200;

/** A projection document as stored: the state, keyed by aggregate id, with its latest causes. */
export type ProjectionDocument<TState> = TState & { _id: string; _causes?: string[] };

interface Loaded<TState> {
  state: TState | null;
  causes: string[];
}

export class ConcurrencyError extends Error {
  override name = "ConcurrencyError";
  constructor(
    readonly aggregateId: string,
    readonly version: number,
  ) {
    super(`aggregate ${aggregateId} changed before version ${version} could be written`);
  }
}

/** What a command decides from the current state: an event to append, or nothing to do. */
export type Decision<S extends Subject = Subject> = Change<S> | null;

export interface ExecuteOptions {
  /** The version the client saw; a different current version fails with ConcurrencyError. */
  expectedVersion?: number;
  /** The event being handled: a second delivery of it finds it in the log and changes nothing. */
  causationId?: string;
  requestId?: string;
  maxAttempts?: number;
  /**
   * The aggregate id is new (a random id the caller just made): nothing is loaded first. Were it
   * taken after all, the insert would collide and the command would load and decide again.
   */
  creates?: boolean;
}

export type ExecuteResult<TState, S extends Subject = Subject> =
  | { outcome: "appended"; state: TState; event: Envelope<S> }
  | { outcome: "unchanged"; state: TState | null }
  | { outcome: "duplicate"; state: TState | null };

/**
 * `S` is the aggregate's subjects: the only changes `append` and `execute` take, so the only
 * events `evolve` is given, and a `switch (event.subject)` over them can be exhaustive.
 */
export interface AggregateLogOptions<TState extends AggregateState, S extends Subject> {
  /**
   * The log, one collection per aggregate type (e.g. `ticket_events`): the driver collection of
   * its owner's model, so every command is sent exactly as written here.
   */
  log: Collection<LogDocument>;
  /** The projections queries read (e.g. `tickets`), from the owner's model likewise. */
  projections: Collection<ProjectionDocument<TState>>;
  /** Folds one event into the state; the log sets `version` afterwards. */
  evolve: (state: TState | null, event: Envelope<S>) => Omit<TState, "version">;
  publisher: Publisher;
  logger: Logger;
  /**
   * How often to look whether this process left something behind (a projection update or a
   * publish that failed, an event waiting for an earlier one); a sweep runs only then. The
   * sweeps scan the log (FerretDB 1.24 on SQLite uses no index for them, so a scan costs about
   * 60 µs per entry); the normal path reads and writes only by _id.
   */
  intervalMs?: number;
  /**
   * How often a sweep runs anyway, for what another process left behind and did not come back
   * for (each process sweeps at its own start).
   */
  fullSweepIntervalMs?: number;
  /** How many aggregates' newest states this process keeps to decide from (least recently written out first). */
  cacheSize?: number;
  /**
   * How long a command waits for JetStream to acknowledge its event before it answers anyway
   * (NATS away: the outbox publishes the event when it is back).
   */
  publishWaitMs?: number;
  /** Crash points, for the tests that kill a writer between the steps. */
  hooks?: {
    afterAppend?: (entry: LogEntry<S>) => void | Promise<void>;
    /** After the entry's projection is written and marked, in its batch. */
    afterProject?: (entry: LogEntry<S>) => void | Promise<void>;
  };
}

export function envelopeOfEntry<S extends Subject>(entry: LogEntry<S>): Envelope<S> {
  const meta: NonNullable<EnvelopeHeader["meta"]> = {};
  if (entry.requestId) meta.requestId = entry.requestId;
  if (entry.causationId) meta.causationId = entry.causationId;
  return {
    id: entry.eventId,
    subject: entry.subject,
    occurredAt: entry.occurredAt.toISOString(),
    aggregateId: entry.aggregateId,
    version: entry.version,
    data: entry.data,
    ...(Object.keys(meta).length > 0 ? { meta } : {}),
  };
}

const jitter = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));

/** A state this process holds to decide from, and how far it knows the aggregate's events are out. */
interface Held<TState> extends Loaded<TState> {
  state: TState;
  /** The highest version known published (0: none known here). */
  published: number;
}

/** A projection to write: the state a commit produced, or (no `doc`) one to rebuild from the log. */
interface QueuedProjection<TState, S extends Subject> {
  aggregateId: string;
  doc?: ProjectionDocument<TState>;
  entry: LogEntry<S>;
}

export class AggregateLog<TState extends AggregateState, S extends Subject> {
  private readonly log: Collection<LogDocument>;
  private readonly projections: Collection<ProjectionDocument<TState>>;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  /** Something this process committed is not projected or not published yet. */
  private behind = false;
  private fullTimer: NodeJS.Timeout | undefined;
  private readonly observers: ((aggregateId: string, state: TState) => void)[] = [];
  private stopFollowingReconnects: (() => void) | undefined;
  /** Newest states by aggregate id, least recently written first. */
  private readonly held = new Map<string, Held<TState>>();
  /** The latest publish this process started per aggregate: the next version waits for it. */
  private readonly publishing = new Map<string, { version: number; done: Promise<boolean> }>();
  private readonly projectionWriter: Batcher<QueuedProjection<TState, S>>;
  /**
   * The log's marks, `projected` and `published`, all through one batcher, the sweeps' too: one
   * update per entry and batch, never two at once on one entry (FerretDB can lose one of two
   * concurrent updates of different fields of a document).
   */
  private readonly marks: Batcher<{ id: string; mark: "projected" | "published" }>;
  /**
   * Entries whose projection is queued or being written, and those of them already published: their
   * `published` mark waits to go with their `projected` one, one update instead of two.
   */
  private readonly projecting = new Set<string>();
  private readonly publishedWhileProjecting = new Set<string>();
  /**
   * The outbox as this process knows it: entries it logged or its relay found, not yet acknowledged
   * by the stream, by _id, with when each was logged and when this process learnt of it.
   */
  private readonly unpublished = new Map<string, { loggedAt: number; knownAt: number }>();
  private stopReporting: (() => void) | undefined;

  constructor(private readonly options: AggregateLogOptions<TState, S>) {
    this.log = options.log;
    this.projections = options.projections;
    this.projectionWriter = new Batcher((queued) => this.writeProjections(queued));
    this.marks = new Batcher((marks) => this.writeMarks(marks));
  }

  /**
   * Catches up, publishes what is pending, and does so again whenever this process leaves something
   * behind, and every minute for other processes. The owner has created
   * the log's indexes (`LOG_INDEXES`) with its model.
   */
  async start(): Promise<void> {
    this.stopReporting ??= eventsInstrumentation().outboxStarted(this.log.collectionName, () =>
      this.outboxReading(),
    );
    await this.sweep();
    this.timer = setInterval(() => {
      if (this.behind) this.sweepInBackground();
    }, this.options.intervalMs ?? 5_000);
    this.timer.unref();
    this.fullTimer = setInterval(() => this.sweepInBackground(), this.options.fullSweepIntervalMs ?? 60_000);
    this.fullTimer.unref();
    // What was appended while NATS was away goes out as soon as it is back, not a timer tick later;
    // a sweep still waiting on a publish from before finishes first.
    this.stopFollowingReconnects = this.options.publisher.onReconnect(() => {
      void (this.sweeping ?? Promise.resolve()).catch(() => undefined).then(() => this.sweepInBackground());
    });
  }

  /** Stops the timer, writes what is queued and publishes what is still pending (graceful shutdown). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.fullTimer);
    this.timer = undefined;
    this.fullTimer = undefined;
    this.stopFollowingReconnects?.();
    await this.flush();
    await this.sweep().catch(() => undefined);
    this.stopReporting?.();
    this.stopReporting = undefined;
  }

  /** What waits in the outbox, as far as this process knows (its own entries, and what its last relay found). */
  outboxReading(): OutboxReading {
    let oldestAt: number | undefined;
    for (const { loggedAt } of this.unpublished.values()) {
      if (oldestAt === undefined || loggedAt < oldestAt) oldestAt = loggedAt;
    }
    return { pending: this.unpublished.size, oldestAt };
  }

  /** Settles once the publishes in flight and the queued projections and marks are written. */
  async flush(): Promise<void> {
    await Promise.all([...this.publishing.values()].map(({ done }) => done));
    await this.projectionWriter.flush();
    await this.marks.flush();
  }

  /** The aggregate's current state from the database: its projection plus any logged events it has not applied yet. */
  async load(aggregateId: string): Promise<TState | null> {
    return (await this.loadWithCauses(aggregateId)).state;
  }

  /**
   * The aggregate's state for a query: its projection (one lookup by _id), or the newer state this
   * process committed while that projection waits for its batch. With neither, a first log entry
   * found means a commit whose projection is still queued in another process: it is folded.
   */
  async read(aggregateId: string): Promise<TState | null> {
    const projected = this.unpack(await this.projections.findOne(this.byId(aggregateId))).state;
    const held = this.held.get(aggregateId)?.state;
    if (held && held.version > (projected?.version ?? 0)) return held;
    if (projected) return projected;
    if (!(await this.log.findOne({ _id: entryId(aggregateId, 1) }))) return null;
    return this.load(aggregateId);
  }

  /** Every logged event of one aggregate, oldest first. */
  async history(aggregateId: string): Promise<LogEntry<S>[]> {
    return this.tail(aggregateId, 0);
  }

  /**
   * Appends the aggregate's next event at `expectedVersion + 1`. The insert is the commit; a
   * duplicate key means another writer got there first (ConcurrencyError).
   */
  async append<C extends S>(
    aggregateId: string,
    expectedVersion: number,
    change: Change<C>,
    meta: { causationId?: string; requestId?: string } = {},
  ): Promise<Envelope<C>> {
    const held = this.held.get(aggregateId);
    const prior =
      expectedVersion === 0
        ? { state: null, causes: [] }
        : held?.state.version === expectedVersion
          ? held
          : null;
    return (await this.commit(aggregateId, expectedVersion, change, meta, prior)).event;
  }

  /**
   * Tells `observer` each state this process loads or commits, as soon as it has it:
   * for an in-memory read model, so that the client that made a change reads it in its response
   * and its next query (read-your-writes), before the event comes back from the stream. The same
   * state may be told again or out of order (racing commands); observers keep the newest version.
   */
  observe(observer: (aggregateId: string, state: TState) => void): void {
    this.observers.push(observer);
  }

  /**
   * Runs a command: decide from the newest state held (loaded when there is none), append; on a
   * concurrent change, reload and decide again (or fail with ConcurrencyError when the caller
   * stated the version it expects). A decision from a held state that refuses or changes nothing
   * is taken again from the database before it is answered: a held state may be behind another
   * process's commits. With a causationId, an event already applied to this aggregate (a
   * redelivery) changes nothing: the state remembers the causes of its latest events.
   */
  async execute(
    aggregateId: string,
    decide: (state: TState | null) => Decision<S>,
    options: ExecuteOptions = {},
  ): Promise<ExecuteResult<TState, S>> {
    const maxAttempts = options.maxAttempts ?? 50;
    for (let attempt = 1; ; attempt++) {
      const held = attempt === 1 ? this.held.get(aggregateId) : undefined;
      const fresh = !held && !(attempt === 1 && options.creates);
      const loaded = held ?? (fresh ? await this.loadWithCauses(aggregateId) : { state: null, causes: [] });
      const { state, causes } = loaded;
      const version = state?.version ?? 0;
      // A held cause was committed: a duplicate is one whatever else the state is behind on.
      if (options.causationId && causes.includes(options.causationId)) return { outcome: "duplicate", state };
      let change: Decision<S>;
      try {
        if (options.expectedVersion !== undefined && options.expectedVersion !== version) {
          throw new ConcurrencyError(aggregateId, options.expectedVersion + 1);
        }
        change = decide(state);
      } catch (error) {
        if (fresh) throw error;
        continue;
      }
      if (!change) {
        if (fresh) return { outcome: "unchanged", state };
        continue;
      }
      try {
        const { event, state: next } = await this.commit(aggregateId, version, change, options, loaded);
        return { outcome: "appended", state: next!, event };
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
        this.held.delete(aggregateId);
        if (options.expectedVersion !== undefined || attempt >= maxAttempts) throw error;
        await jitter(attempt);
      }
    }
  }

  /**
   * Brings one projection to the log's latest version, from the database. Every writer checks
   * again after its own write, so a slower writer that lands an older state (possible where
   * conditional updates are not atomic, as on FerretDB) moves it forward again itself.
   */
  async project(aggregateId: string): Promise<void> {
    for (;;) {
      const projection = await this.projections.findOne(this.byId(aggregateId));
      const from = projection?.version ?? 0;
      const tail = await this.tail(aggregateId, from);
      if (tail.length === 0) {
        if (projection) await this.markProjected(aggregateId, from);
        return;
      }
      let { state, causes } = this.unpack(projection);
      for (const entry of tail) ({ state, causes } = this.fold(state, causes, entry));
      if (!state) return;
      const doc = { ...state, _id: aggregateId, _causes: causes } as ProjectionDocument<TState>;
      // Filters name _id alone: it is the only filter FerretDB 1.24 answers from an index.
      if (!projection) {
        await this.projections
          .insertOne(doc as OptionalUnlessRequiredId<ProjectionDocument<TState>>)
          .catch((error: unknown) => {
            if (!isDuplicateKey(error)) throw error;
          });
      } else {
        await this.projections.replaceOne(this.byId(aggregateId), doc);
      }
    }
  }

  /** Re-applies every logged event some projection has not marked as applied. */
  async catchUp(): Promise<number> {
    const pending = await this.log.find({ projected: false }, { projection: { aggregateId: 1 } }).toArray();
    const aggregates = [...new Set(pending.map((entry) => entry.aggregateId))];
    for (const aggregateId of aggregates) await this.project(aggregateId);
    return aggregates.length;
  }

  /** Publishes every logged event not yet acknowledged by JetStream, oldest first. */
  async relay(): Promise<void> {
    const startedAt = Date.now();
    const found = new Set<string>();
    for (;;) {
      const batch = await this.log
        .find({ published: false })
        .sort({ occurredAt: 1, version: 1 })
        .limit(100)
        .toArray();
      for (const entry of batch) {
        found.add(entry._id);
        if (!this.unpublished.has(entry._id)) {
          this.unpublished.set(entry._id, { loggedAt: +entry.occurredAt, knownAt: Date.now() });
        }
      }
      for (const entry of batch.sort((a, b) => a.version - b.version || +a.occurredAt - +b.occurredAt)) {
        await this.publish(logged<S>(entry));
      }
      if (batch.length < 100) break;
    }
    // Known before this relay looked and not found by it: another process published them.
    for (const [id, { knownAt }] of this.unpublished) {
      if (knownAt < startedAt && !found.has(id)) this.unpublished.delete(id);
    }
  }

  /**
   * The commit and what follows it: the insert, then (off the path) the projection, and the event
   * published before the command answers. `prior` is the state the change was decided from, when
   * known; without it the projection is rebuilt from the log.
   */
  private async commit<C extends S>(
    aggregateId: string,
    expectedVersion: number,
    change: Change<C>,
    meta: { causationId?: string; requestId?: string },
    prior: Loaded<TState> | null,
  ): Promise<{ event: Envelope<C>; state: TState | null }> {
    const entry: LogEntry<C> = {
      _id: entryId(aggregateId, expectedVersion + 1),
      eventId: randomUUID(),
      aggregateId,
      version: expectedVersion + 1,
      subject: change.subject,
      data: validatePayload(change.subject, change.data),
      occurredAt: new Date(),
      causationId: meta.causationId ?? null,
      requestId: meta.requestId ?? null,
      trace: currentTraceCarrier() ?? null,
      published: false,
      projected: false,
    };
    try {
      await this.log.insertOne(entry);
    } catch (error) {
      if (isDuplicateKey(error)) throw new ConcurrencyError(aggregateId, entry.version);
      throw error;
    }
    this.unpublished.set(entry._id, { loggedAt: +entry.occurredAt, knownAt: Date.now() });
    await this.options.hooks?.afterAppend?.(entry);
    // The event is committed: what follows only makes it visible sooner; the sweeps cover a failure.
    let next: TState | null = null;
    if (prior) {
      const folded = this.fold(prior.state, prior.causes, entry);
      next = folded.state!;
      this.hold(aggregateId, next, folded.causes);
      this.tell(aggregateId, next);
      this.queueProjection({
        aggregateId,
        entry,
        doc: { ...next, _id: aggregateId, _causes: folded.causes },
      });
    } else {
      this.queueProjection({ aggregateId, entry });
    }
    const published = this.publishInOrder(entry);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      published,
      new Promise((resolve) => (timer = setTimeout(resolve, this.options.publishWaitMs ?? 1_000))),
    ]);
    clearTimeout(timer);
    return { event: envelopeOfEntry(entry), state: next };
  }

  private sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      // Cleared first: what fails from here on asks for the next sweep.
      this.behind = false;
      try {
        await this.catchUp();
        await this.relay();
      } catch (error) {
        this.behind = true;
        throw error;
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  private sweepInBackground() {
    this.sweep().catch((error: unknown) =>
      this.options.logger.warn({ err: error }, "aggregate log sweep failed; will retry"),
    );
  }

  private queueProjection(queued: QueuedProjection<TState, S>) {
    this.projecting.add(queued.entry._id);
    this.projectionWriter.add(queued).catch((error: unknown) => {
      this.behind = true;
      void this.projected(queued.entry._id, false);
      this.options.logger.warn(
        { err: error, aggregateId: queued.aggregateId },
        "projection update deferred to the sweep",
      );
    });
  }

  /**
   * One batch of projections: the newest state of each aggregate, replaced by _id in one command;
   * then, for each, the log's next version looked up by _id: one another process appended
   * meanwhile is projected from the log, so no projection stays behind a slower writer's. The
   * entries are marked projected last.
   */
  private async writeProjections(queued: QueuedProjection<TState, S>[]) {
    const newest = new Map<string, ProjectionDocument<TState>>();
    const rebuild = new Set<string>();
    for (const { aggregateId, doc } of queued) {
      if (!doc) rebuild.add(aggregateId);
      else if ((newest.get(aggregateId)?.version ?? 0) < doc.version) newest.set(aggregateId, doc);
    }
    const docs = [...newest.values()].filter((doc) => !rebuild.has(doc._id));
    if (docs.length > 0) {
      try {
        await this.projections.bulkWrite(
          docs.map((doc) => ({
            replaceOne: { filter: this.byId(doc._id), replacement: doc, upsert: true },
          })),
          { ordered: false },
        );
      } catch (error) {
        // Two upserts of one new projection at once: the loser's state is rebuilt from the log.
        if (!isDuplicateKey(error)) throw error;
        for (const doc of docs) rebuild.add(doc._id);
      }
    }
    const moved = await Promise.all(
      docs.map((doc) =>
        this.log.findOne({ _id: entryId(doc._id, doc.version + 1) }, { projection: { _id: 1 } }),
      ),
    );
    docs.forEach((doc, index) => {
      if (moved[index]) rebuild.add(doc._id);
    });
    for (const aggregateId of rebuild) await this.project(aggregateId);
    await Promise.all(
      queued.map(({ aggregateId, entry }) => this.projected(entry._id, !rebuild.has(aggregateId))),
    );
    for (const { entry } of queued) await this.options.hooks?.afterProject?.(entry);
  }

  /**
   * An entry's projection is written (or, `mark` false, left to a rebuild or the sweep): its
   * `projected` mark, with its `published` one when the publish came first.
   */
  private projected(id: string, mark: boolean): Promise<unknown> {
    this.projecting.delete(id);
    const published = this.publishedWhileProjecting.delete(id);
    const marks: Promise<void>[] = [];
    if (mark) marks.push(this.marks.add({ id, mark: "projected" }));
    if (published) marks.push(this.markPublished(id));
    return Promise.all(marks);
  }

  /** A published entry's mark; if it cannot be written, the relay publishes the entry again. */
  private markPublished(id: string): Promise<void> {
    return this.marks.add({ id, mark: "published" }).catch(() => {
      // The stream drops the duplicate the relay sends.
      this.behind = true;
    });
  }

  /** One batch of marks: each entry's marks in one update. */
  private async writeMarks(marks: { id: string; mark: "projected" | "published" }[]) {
    const byEntry = new Map<string, Partial<Record<"projected" | "published", true>>>();
    for (const { id, mark } of marks) byEntry.set(id, { ...byEntry.get(id), [mark]: true });
    await this.log.bulkWrite(
      [...byEntry].map(([_id, set]) => ({ updateOne: { filter: { _id }, update: { $set: set } } })),
      { ordered: false },
    );
  }

  /**
   * Publishes a fresh entry once the aggregate's previous version is out: at once when this
   * process published it or is publishing it, after a lookup when it does not know. When the
   * previous one is not out, the sweep publishes them in order, so consumers see an aggregate's
   * events in version order. Settles with whether the entry was published.
   */
  private publishInOrder(entry: LogEntry<S>): Promise<boolean> {
    const { aggregateId, version } = entry;
    const before = this.publishing.get(aggregateId);
    const done = (async () => {
      let previousOut = version === 1 || (this.held.get(aggregateId)?.published ?? 0) >= version - 1;
      if (!previousOut && before?.version === version - 1) previousOut = await before.done;
      if (!previousOut) {
        const previous = await this.log.findOne({ _id: entryId(aggregateId, version - 1) });
        previousOut = !previous || previous.published;
      }
      if (!previousOut) {
        this.behind = true;
        return false;
      }
      await this.options.publisher.publishEnvelope(envelopeOfEntry(entry), entry.trace ?? undefined);
      this.unpublished.delete(entry._id);
      const held = this.held.get(aggregateId);
      if (held) held.published = Math.max(held.published, version);
      if (this.projecting.has(entry._id)) this.publishedWhileProjecting.add(entry._id);
      else void this.markPublished(entry._id);
      return true;
    })().catch((error: unknown) => {
      this.behind = true;
      this.options.logger.warn({ err: error, aggregateId }, "event publish deferred to the sweep");
      return false;
    });
    this.publishing.set(aggregateId, { version, done });
    void done.then(() => {
      if (this.publishing.get(aggregateId)?.done === done) this.publishing.delete(aggregateId);
    });
    return done;
  }

  private async publish(entry: LogEntry<S>) {
    await this.options.publisher.publishEnvelope(envelopeOfEntry(entry));
    this.unpublished.delete(entry._id);
    await this.marks.add({ id: entry._id, mark: "published" });
  }

  private async markProjected(aggregateId: string, upTo: number) {
    for (let version = upTo; version >= 1; version--) {
      const entry = await this.log.findOne({ _id: entryId(aggregateId, version) });
      if (!entry || entry.projected) return;
      await this.marks.add({ id: entry._id, mark: "projected" });
    }
  }

  /** The aggregate's entries after `version`, read by _id (the one lookup every server indexes). */
  private async tail(aggregateId: string, version: number): Promise<LogEntry<S>[]> {
    const entries: LogEntry<S>[] = [];
    for (let next = version + 1; ; next++) {
      const entry = await this.log.findOne({ _id: entryId(aggregateId, next) });
      if (!entry) return entries;
      entries.push(logged<S>(entry));
    }
  }

  private async loadWithCauses(aggregateId: string): Promise<Loaded<TState>> {
    const projection = await this.projections.findOne(this.byId(aggregateId));
    let loaded = this.unpack(projection);
    let published = 0;
    for (const entry of await this.tail(aggregateId, loaded.state?.version ?? 0)) {
      loaded = this.fold(loaded.state, loaded.causes, entry);
      published = entry.published ? entry.version : published;
    }
    if (loaded.state) {
      this.hold(aggregateId, loaded.state, loaded.causes, published);
      this.tell(aggregateId, loaded.state);
    }
    return loaded;
  }

  /** Keeps the state to decide from, unless a newer one is held; evicts the least recently written. */
  private hold(aggregateId: string, state: TState, causes: string[], published = 0) {
    const current = this.held.get(aggregateId);
    if (current && current.state.version > state.version) return;
    this.held.delete(aggregateId);
    this.held.set(aggregateId, { state, causes, published: Math.max(current?.published ?? 0, published) });
    if (this.held.size > (this.options.cacheSize ?? 10_000)) {
      this.held.delete(this.held.keys().next().value!);
    }
  }

  private unpack(
    doc: WithId<ProjectionDocument<TState>> | ProjectionDocument<TState> | null,
  ): Loaded<TState> {
    if (!doc) return { state: null, causes: [] };
    const { _id: _ignored, _causes, ...state } = doc;
    return { state: state as unknown as TState, causes: _causes ?? [] };
  }

  private fold(state: TState | null, causes: string[], entry: LogEntry<S>): Loaded<TState> {
    return {
      state: this.apply(state, envelopeOfEntry(entry)),
      causes: entry.causationId ? [...causes, entry.causationId].slice(-REMEMBERED_CAUSES) : causes,
    };
  }

  private apply(state: TState | null, event: Envelope<S>): TState {
    return { ...this.options.evolve(state, event), version: event.version } as TState;
  }

  private tell(aggregateId: string, state: TState) {
    for (const observer of this.observers) {
      try {
        observer(aggregateId, state);
      } catch (error) {
        // The command has committed; an observer's failure must not make it look failed.
        this.options.logger.error({ err: error, aggregateId }, "an observer of the log failed");
      }
    }
  }

  private byId(aggregateId: string) {
    return { _id: aggregateId } as Filter<ProjectionDocument<TState>>;
  }
}

/**
 * A stored document as the entry it is. Only `append` writes the log, and it takes only changes
 * of the log's subjects, each payload validated against its subject, so the pairing holds; this
 * is the one place the type system has to be told so.
 */
function logged<S extends Subject>(stored: LogDocument): LogEntry<S> {
  return stored as LogEntry<S>;
}

function entryId(aggregateId: string, version: number) {
  return `${aggregateId}:${version}`;
}
