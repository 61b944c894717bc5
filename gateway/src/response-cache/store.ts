// The responses the gateway keeps: a map from key to response in least-recently-used order,
// bounded by entries and bytes, each entry valid for a TTL; an index from tag (an entity, see
// entities.ts) to the keys that show it; and one execution at a time per key (single flight).
//
// A fill (the execution of a miss) reads the subgraphs over some milliseconds; an event that
// arrives meanwhile may have changed what it read. Every invalidation therefore raises a
// generation and notes it against the tags it reached; a fill remembers the generation it
// started at, and its result is neither stored nor handed to the requests waiting on it when
// any of its tags was invalidated after that. They execute again instead, each on its own: while
// the entities of a key keep changing (an on-sale), the next fill would most likely end the same
// way, and waiting on fill after fill made a reader wait several executions' time.
import { createHash } from "node:crypto";
import { cacheCounters } from "@ticketing/shared-runtime";
import type { FormattedExecutionResult } from "graphql";
import { reachedBy } from "./entities.js";

export interface StoreLimits {
  ttlMs: number;
  maxEntries: number;
  maxBytes: number;
}

/** A response that may be served to any anonymous or API-key client. */
export interface CachedResponse {
  /** Frozen: one object serves every hit. */
  readonly result: FormattedExecutionResult;
  /** A strong validator: the hash of the result's JSON. */
  readonly etag: string;
  readonly bytes: number;
}

interface Entry extends CachedResponse {
  readonly tags: readonly string[];
  readonly expiresAt: number;
}

/** One execution of a missed key; whoever holds it must `finish` it. */
export interface Fill {
  readonly key: string;
  readonly generation: number;
  /** False when it runs beside another fill of the key (see `acquire`): nobody waits on it. */
  readonly shared: boolean;
}

/** What a fill's waiters get when an entity it showed changed while it ran. */
const STALE = Symbol("stale");

interface Flight extends Fill {
  readonly done: Promise<CachedResponse | typeof STALE | undefined>;
  settle(response: CachedResponse | typeof STALE | undefined): void;
  timer: NodeJS.Timeout;
}

export type Acquired =
  { kind: "hit"; response: CachedResponse; waited: boolean } | { kind: "fill"; fill: Fill };

export interface StoreStats {
  hits: number;
  /** Requests that waited for another request's execution of their key and got its response. */
  shared: number;
  misses: number;
  stored: number;
  /** Fills not stored: a tag was invalidated while they ran, or the response was too large. */
  discarded: number;
  invalidated: number;
  evicted: number;
  expired: number;
  entries: number;
  bytes: number;
}

/** A fill that never finishes (a request lost in a failure) holds up its waiters no longer. */
const FILL_TIMEOUT_MS = 10_000;
/** Rounds of waiting on other fills before a request executes on its own. */
const MAX_WAITS = 3;
/** A wait on another request's fill is a hit: the subgraphs are asked once. */
const lookups = cacheCounters("response");
/** Remembered invalidations past which the ones no running fill needs are dropped. */
const PRUNE_ABOVE = 1_000;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export class ResponseStore {
  private readonly entries = new Map<string, Entry>();
  private readonly byTag = new Map<string, Set<string>>();
  private readonly flights = new Map<string, Flight>();
  /**
   * Fills running, shared or not, counted by the generation they started at (in rising order):
   * an invalidation older than the first of them can no longer make any of them stale.
   */
  private readonly running = new Map<number, number>();
  private generation = 0;
  /** The generation of each tag's latest invalidation, kept while fills that predate it run. */
  private readonly invalidatedAt = new Map<string, number>();
  /** The generation of the latest `clear`. */
  private clearedAt = 0;
  private bytes = 0;
  private counts = {
    hits: 0,
    shared: 0,
    misses: 0,
    stored: 0,
    discarded: 0,
    invalidated: 0,
    evicted: 0,
    expired: 0,
  };

  constructor(
    private readonly limits: StoreLimits,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The entry of `key` while it is valid; a hit makes it the most recently used. */
  get(key: string): CachedResponse | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.remove(key, entry);
      this.counts.expired++;
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  /**
   * The response for `key`: stored, or another request's execution of it (awaited), or else a
   * fill for the caller to execute and `finish`. After a few rounds of waiting on fills that
   * could not be shared (their key kept changing), the caller executes beside them.
   */
  async acquire(key: string): Promise<Acquired> {
    for (let round = 0; ; round++) {
      const stored = this.get(key);
      if (stored) {
        if (round === 0) this.counts.hits++;
        else this.counts.shared++;
        lookups.hit.inc();
        return { kind: "hit", response: stored, waited: round > 0 };
      }
      const flight = this.flights.get(key);
      if (!flight) return { kind: "fill", fill: this.begin(key, true) };
      if (round >= MAX_WAITS) return { kind: "fill", fill: this.begin(key, false) };
      const response = await flight.done;
      if (response === STALE) return { kind: "fill", fill: this.begin(key, false) };
      if (response) {
        this.counts.shared++;
        lookups.hit.inc();
        return { kind: "hit", response, waited: true };
      }
    }
  }

  private begin(key: string, shared: boolean): Fill {
    this.counts.misses++;
    lookups.miss.inc();
    const generation = this.generation;
    this.running.set(generation, (this.running.get(generation) ?? 0) + 1);
    if (!shared) return { key, generation, shared };
    let settle!: Flight["settle"];
    const done = new Promise<CachedResponse | typeof STALE | undefined>((resolve) => (settle = resolve));
    const flight: Flight = {
      key,
      generation,
      shared,
      done,
      settle,
      timer: setTimeout(() => this.land(flight, undefined), FILL_TIMEOUT_MS),
    };
    flight.timer.unref();
    this.flights.set(key, flight);
    return flight;
  }

  private land(flight: Flight, response: CachedResponse | typeof STALE | undefined) {
    clearTimeout(flight.timer);
    if (this.flights.get(flight.key) === flight) this.flights.delete(flight.key);
    flight.settle(response);
  }

  /**
   * Ends a fill with its result and tags, or with nothing when the response may not be shared
   * (errors, a cookie). Returns the response as stored (and handed to the fill's waiters), or
   * undefined when it was not.
   */
  finish(fill: Fill, outcome: { result: FormattedExecutionResult; tags: Iterable<string> } | undefined) {
    const tags = outcome ? [...outcome.tags] : [];
    const stale = outcome !== undefined && this.isStale(fill, tags);
    if (stale) this.counts.discarded++;
    const response = outcome && !stale ? this.store(fill, outcome.result, tags) : undefined;
    this.ended(fill.generation);
    if ("settle" in fill) this.land(fill as Flight, stale ? STALE : response);
    return response;
  }

  /** Whether an entity the fill's response shows changed (or everything was cleared) since it began. */
  private isStale(fill: Fill, tags: readonly string[]): boolean {
    return (
      this.clearedAt > fill.generation ||
      tags.some((tag) => (this.invalidatedAt.get(tag) ?? -1) > fill.generation)
    );
  }

  private ended(generation: number) {
    const left = (this.running.get(generation) ?? 1) - 1;
    if (left > 0) this.running.set(generation, left);
    else this.running.delete(generation);
    const oldest = this.running.keys().next().value;
    if (oldest === undefined) {
      this.invalidatedAt.clear();
    } else if (this.invalidatedAt.size > PRUNE_ABOVE) {
      for (const [tag, at] of this.invalidatedAt) if (at <= oldest) this.invalidatedAt.delete(tag);
    }
  }

  private store(fill: Fill, result: FormattedExecutionResult, tags: string[]): CachedResponse | undefined {
    const json = JSON.stringify(result);
    const bytes = Buffer.byteLength(json);
    if (bytes > this.limits.maxBytes) {
      this.counts.discarded++;
      return undefined;
    }
    const entry: Entry = {
      result: deepFreeze(result),
      etag: `"${createHash("sha256").update(json).digest("base64url")}"`,
      bytes,
      tags,
      expiresAt: this.now() + this.limits.ttlMs,
    };
    const previous = this.entries.get(fill.key);
    if (previous) this.remove(fill.key, previous);
    this.entries.set(fill.key, entry);
    this.bytes += bytes;
    for (const tag of tags) {
      let keys = this.byTag.get(tag);
      if (!keys) this.byTag.set(tag, (keys = new Set()));
      keys.add(fill.key);
    }
    this.counts.stored++;
    for (const [key, oldest] of this.entries) {
      if (this.entries.size <= this.limits.maxEntries && this.bytes <= this.limits.maxBytes) break;
      this.remove(key, oldest);
      this.counts.evicted++;
    }
    return entry;
  }

  /** Drops every response that shows one of these entities (and every fill's claim to). */
  invalidate(tags: Iterable<string>): number {
    this.generation++;
    let dropped = 0;
    for (const tag of tags) {
      for (const reached of reachedBy(tag)) {
        if (this.running.size > 0) this.invalidatedAt.set(reached, this.generation);
        for (const key of this.byTag.get(reached) ?? []) {
          const entry = this.entries.get(key);
          if (entry) {
            this.remove(key, entry);
            dropped++;
          }
        }
      }
    }
    this.counts.invalidated += dropped;
    return dropped;
  }

  /** Drops everything, including what the fills running now would store. */
  clear(): void {
    this.generation++;
    this.clearedAt = this.generation;
    this.entries.clear();
    this.byTag.clear();
    this.bytes = 0;
  }

  /** Drops expired entries (a hit drops its own; this frees the ones nobody asks for). */
  sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) continue;
      this.remove(key, entry);
      this.counts.expired++;
    }
  }

  /** The counts since the last call, with the current size. */
  takeStats(): StoreStats {
    const stats = { ...this.counts, entries: this.entries.size, bytes: this.bytes };
    for (const name of Object.keys(this.counts) as (keyof typeof this.counts)[]) this.counts[name] = 0;
    return stats;
  }

  private remove(key: string, entry: Entry) {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
    for (const tag of entry.tags) {
      const keys = this.byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.byTag.delete(tag);
    }
  }
}
