// A service's queries answered from memory: its own projections, loaded once at start and kept
// current by following its own subjects on the stream (docs/adr/0003-reads-from-memory.md).
//
// The load and the follow meet without a gap: the stream's last sequence is read before the
// projections are, and the follower starts right after it. Whatever the follower then hands over
// that the load already saw is passed over by version: each aggregate's state is held with its
// version, and an event or state that is not newer changes nothing. So the same change may arrive
// three ways (the load, the command that made it on this replica, the stream) in any order and is
// applied once.
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { AggregateState, ProjectionDocument } from "./aggregate-log.js";
import { isEventOf, STREAM, type Envelope, type Subject } from "./catalogue.js";
import { filterFor, follow, type Follower } from "./follow.js";

export interface AggregateViewOptions<TState extends AggregateState, S extends Subject> {
  /** For logs. */
  name: string;
  /** The subjects of the aggregate's log: the events this view folds. */
  subjects: readonly S[];
  /** The aggregate's fold, the same one its log projects with. */
  evolve: (state: TState | null, event: Envelope<S>) => Omit<TState, "version">;
  /** Every projection document, streamed (leave `_causes` out: the view does not keep it). */
  load: () => AsyncIterable<ProjectionDocument<TState>> | Iterable<ProjectionDocument<TState>>;
  /**
   * The aggregate's state from the store of record, for an event whose predecessor this view has
   * not seen: one whose projection lagged its published event when the view was loaded (a writer
   * that crashed between its append and its projection). The fold alone could not rebuild it.
   */
  reload: (aggregateId: string) => Promise<TState | null>;
  /**
   * The state to hold for a state about to be held (a copy: what a command returns to its client
   * is not changed), e.g. with the strings many aggregates repeat shared (see `Interner`).
   */
  compact?: (state: TState) => TState;
  /** Told every change, with the state it replaces, so that the owner's indexes follow. */
  changed?: (next: TState, previous: TState | null) => void;
}

/**
 * One copy of each distinct string: every decoded document and event brings its own copy of an
 * event id, a seller id, a status, which the tickets of one event or seller could all share.
 */
export class Interner {
  private readonly strings = new Map<string, string>();

  get size(): number {
    return this.strings.size;
  }

  intern(value: string): string {
    const held = this.strings.get(value);
    if (held !== undefined) return held;
    this.strings.set(value, value);
    return value;
  }
}

/** What a read model's follower feeds, whatever the view's state and subjects. */
export interface FollowedView {
  readonly name: string;
  readonly subjects: readonly Subject[];
  /** Reads every projection; returns how many. */
  load(): Promise<number>;
  /** Folds the event if it is of this view's subjects ("skipped" otherwise). */
  receive(event: Envelope): "applied" | "skipped" | "gap";
  /** Holds the aggregate's state as the store of record has it. */
  reload(aggregateId: string): Promise<void>;
}

/** The held states of one aggregate type, by aggregate id. */
export class AggregateView<TState extends AggregateState, S extends Subject> implements FollowedView {
  private readonly states = new Map<string, TState>();

  constructor(private readonly options: AggregateViewOptions<TState, S>) {}

  get name(): string {
    return this.options.name;
  }

  get subjects(): readonly Subject[] {
    return this.options.subjects;
  }

  get size(): number {
    return this.states.size;
  }

  get(aggregateId: string): TState | undefined {
    return this.states.get(aggregateId);
  }

  values(): IterableIterator<TState> {
    return this.states.values();
  }

  /**
   * Holds `state` unless what is held is as new: for the load, for a command's committed state
   * (read-your-writes), for a reload. Returns whether it changed anything.
   */
  put(aggregateId: string, state: TState): boolean {
    const held = this.states.get(aggregateId);
    if (held && held.version >= state.version) return false;
    const next = this.options.compact ? this.options.compact(state) : state;
    this.states.set(aggregateId, next);
    this.options.changed?.(next, held ?? null);
    return true;
  }

  /**
   * Folds one event into the held state. "gap" when it is more than one version ahead: the fold
   * needs the state right before it, which only the store of record has.
   */
  apply(event: Envelope<S>): "applied" | "skipped" | "gap" {
    const held = this.states.get(event.aggregateId) ?? null;
    const version = held?.version ?? 0;
    if (event.version <= version) return "skipped";
    if (event.version !== version + 1) return "gap";
    // The log sets `version` on what the fold returns; so does the view.
    const next = { ...this.options.evolve(held, event), version: event.version } as TState;
    this.put(event.aggregateId, next);
    return "applied";
  }

  async load(): Promise<number> {
    let count = 0;
    for await (const doc of this.options.load()) {
      const { _id: aggregateId, _causes: _ignored, ...state } = doc;
      this.put(aggregateId, state as unknown as TState);
      count++;
    }
    return count;
  }

  receive(event: Envelope): "applied" | "skipped" | "gap" {
    return isEventOf(event, ...this.options.subjects) ? this.apply(event) : "skipped";
  }

  async reload(aggregateId: string): Promise<void> {
    const state = await this.options.reload(aggregateId);
    if (state) this.put(aggregateId, state);
  }
}

export interface ReadModelOptions {
  nc: NatsConnection;
  logger: Logger;
  /** Views fed by one follower of their subjects together. */
  views: readonly FollowedView[];
  /**
   * How long the follower may stay short of a sequence the stream had before the model reports
   * not ready. The follower applies an event in microseconds, so seconds mean it is stuck, not busy.
   */
  maxLagMs?: number;
  /** How long the start may take to reach the stream's last sequence after the load. */
  catchUpTimeoutMs?: number;
}

export interface ReadModel {
  /**
   * Loads every view, then follows the stream from the sequence it had before the load; resolves
   * once the follower has reached the stream's last sequence as it was when the load ended.
   */
  start(): Promise<void>;
  /**
   * The readiness check: false until the start has caught up, when the follower has ended, and
   * when it has not reached, within `maxLagMs`, a sequence the stream held for these subjects.
   */
  ready(): Promise<boolean>;
  /** The stream sequence the views reflect. */
  position(): number;
  stop(): Promise<void>;
}

const DEFAULT_MAX_LAG_MS = 5_000;
const DEFAULT_CATCH_UP_TIMEOUT_MS = 60_000;
/** How often the start looks at the follower's position while catching up. */
const CATCH_UP_POLL_MS = 10;
/** Between attempts to reload an aggregate the store of record could not give: doubling, capped. */
const RELOAD_RETRY_MS = 100;
const RELOAD_RETRY_CAP_MS = 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Loads the views and keeps them current. Build the views (and the owner's indexes on them) first,
 * start this, then serve from the views; a command applies its committed state with `put` at once.
 */
export function readModel({
  nc,
  logger: parentLogger,
  views,
  maxLagMs = DEFAULT_MAX_LAG_MS,
  catchUpTimeoutMs = DEFAULT_CATCH_UP_TIMEOUT_MS,
}: ReadModelOptions): ReadModel {
  const subjects = [...new Set(views.flatMap((view) => view.subjects))];
  const filter = filterFor(subjects);
  const logger = parentLogger.child({ readModel: views.map((view) => view.name).join("+") });
  let follower: Follower | undefined;
  let manager: Promise<JetStreamManager> | undefined;
  let caughtUp = false;
  let ended = false;
  let stopped = false;
  /** The oldest stream sequence seen ahead of the follower and not yet reached, and since when. */
  let behind: { seq: number; since: number } | undefined;

  /** The sequence of the stream's last message on these subjects; 0 when it holds none. */
  async function lastSeq(): Promise<number> {
    const jsm = await (manager ??= jetstreamManager(nc));
    const last = await jsm.streams.getMessage(STREAM, { last_by_subj: filter });
    return last?.seq ?? 0;
  }

  async function reload(view: FollowedView, aggregateId: string) {
    for (let attempt = 1; !stopped; attempt++) {
      try {
        await view.reload(aggregateId);
        return;
      } catch (error) {
        // Passing the event over would leave the aggregate stale until its next change: keep the
        // follower here instead, which the readiness check reports once it lasts.
        logger.warn({ err: error, aggregateId, attempt }, "cannot reload an aggregate; retrying");
        await sleep(Math.min(RELOAD_RETRY_CAP_MS, RELOAD_RETRY_MS * 2 ** (attempt - 1)));
      }
    }
  }

  async function handle(event: Envelope) {
    for (const view of views) {
      if (view.receive(event) === "gap") {
        logger.info(
          { aggregateId: event.aggregateId, version: event.version },
          "an event ahead of the held state; reloading the aggregate",
        );
        await reload(view, event.aggregateId);
      }
    }
  }

  return {
    async start() {
      const jsm = await (manager ??= jetstreamManager(nc));
      // Read before the projections: every event stored up to here is in what the load reads, and
      // the follower hands over everything after it.
      const from = (await jsm.streams.info(STREAM)).state.last_seq;
      const started = Date.now();
      for (const view of views) {
        const count = await view.load();
        logger.info({ view: view.name, count }, "read model loaded");
      }
      const target = await lastSeq();
      follower = await follow(nc, subjects, { from: { after: from }, logger }, handle);
      const current = follower;
      void current.ended.then((reason) => {
        ended = true;
        if (reason) logger.error({ err: reason }, "the read model no longer follows the stream");
      });
      const deadline = Date.now() + catchUpTimeoutMs;
      while (current.position() < target) {
        let failure: string | undefined;
        if (ended) failure = "the read model's follower ended before it caught up";
        else if (Date.now() > deadline) {
          failure = `the read model did not reach stream sequence ${target} in ${catchUpTimeoutMs} ms`;
        }
        if (failure) {
          // A start that fails leaves nothing running: the service's stop is not registered yet.
          await current.stop();
          throw new Error(failure);
        }
        await sleep(CATCH_UP_POLL_MS);
      }
      caughtUp = true;
      logger.info({ from, target, ms: Date.now() - started }, "read model caught up");
    },

    async ready() {
      if (!caughtUp || ended || !follower) return false;
      const last = await lastSeq();
      const position = follower.position();
      const now = Date.now();
      if (position >= last) {
        behind = undefined;
        return true;
      }
      if (!behind || position >= behind.seq) behind = { seq: last, since: now };
      const lag = now - behind.since;
      if (lag > maxLagMs) {
        logger.warn({ position, last, behindSince: behind.seq, lagMs: lag }, "the read model is behind");
        return false;
      }
      return true;
    },

    position: () => follower?.position() ?? 0,

    async stop() {
      stopped = true;
      await follower?.stop();
    },
  };
}
