import { describe, expect, it } from "vitest";
import { ResponseStore, type Acquired, type Fill } from "./store.js";

const limits = { ttlMs: 30_000, maxEntries: 100, maxBytes: 1_000_000 };
const result = (value: string) => ({ data: { value } });

function fillOf(acquired: Acquired): Fill {
  if (acquired.kind !== "fill") throw new Error(`expected a fill, got a ${acquired.kind}`);
  return acquired.fill;
}

describe("the response store", () => {
  it("serves a stored response until an event reaches one of its entities", async () => {
    const store = new ResponseStore(limits);
    store.finish(fillOf(await store.acquire("k")), { result: result("a"), tags: ["Event:1", "Ticket:7"] });
    expect(await store.acquire("k")).toMatchObject({ kind: "hit", response: { result: result("a") } });

    expect(store.invalidate(["Ticket:8", "User:7"])).toBe(0);
    expect((await store.acquire("k")).kind).toBe("hit");
    expect(store.invalidate(["Ticket:7"])).toBe(1);
    expect((await store.acquire("k")).kind).toBe("fill");
  });

  it("drops a response with an id-less object of a type on any change of that type", async () => {
    const store = new ResponseStore(limits);
    store.finish(fillOf(await store.acquire("k")), { result: result("a"), tags: ["Event:1", "User:*"] });
    store.invalidate(["User:42"]);
    expect((await store.acquire("k")).kind).toBe("fill");
  });

  it("does not store a fill whose entity changed while it ran, nor hand it to its waiters", async () => {
    const store = new ResponseStore(limits);
    const fill = fillOf(await store.acquire("k"));
    const waiter = store.acquire("k");
    store.invalidate(["Ticket:7"]);
    expect(store.finish(fill, { result: result("stale"), tags: ["Ticket:7"] })).toBeUndefined();
    // The waiter executes again rather than take what may be stale.
    const second = fillOf(await waiter);
    expect(store.finish(second, { result: result("fresh"), tags: ["Ticket:7"] })).toBeDefined();
    expect(await store.acquire("k")).toMatchObject({ kind: "hit", response: { result: result("fresh") } });
  });

  it("sends the waiters of a fill made stale to execute each on its own, not to wait on another", async () => {
    const store = new ResponseStore(limits);
    const fill = fillOf(await store.acquire("k"));
    const waiters = Array.from({ length: 3 }, () => store.acquire("k"));
    store.invalidate(["Ticket:7"]);
    store.finish(fill, { result: result("stale"), tags: ["Ticket:7"] });
    const settled = await Promise.all(waiters);
    expect(settled.map((acquired) => acquired.kind === "fill" && acquired.fill.shared)).toEqual([
      false,
      false,
      false,
    ]);
    expect(store.takeStats()).toMatchObject({ misses: 4, discarded: 1, shared: 0 });
  });

  it("stores a fill that started after the invalidation", async () => {
    const store = new ResponseStore(limits);
    const early = fillOf(await store.acquire("early"));
    store.invalidate(["Ticket:7"]);
    const late = fillOf(await store.acquire("late"));
    expect(store.finish(late, { result: result("late"), tags: ["Ticket:7"] })).toBeDefined();
    expect(store.finish(early, { result: result("early"), tags: ["Ticket:7"] })).toBeUndefined();
  });

  it("stores nothing that a clear overtook", async () => {
    const store = new ResponseStore(limits);
    const fill = fillOf(await store.acquire("k"));
    store.clear();
    expect(store.finish(fill, { result: result("a"), tags: [] })).toBeUndefined();
  });

  it("runs one execution for concurrent misses of a key and hands its response to every waiter", async () => {
    const store = new ResponseStore(limits);
    const first = await store.acquire("k");
    const waiters = Array.from({ length: 20 }, () => store.acquire("k"));
    const other = await store.acquire("other");
    expect(other.kind).toBe("fill");
    const stored = store.finish(fillOf(first), { result: result("a"), tags: [] });
    const answers = await Promise.all(waiters);
    expect(answers.every((answer) => answer.kind === "hit" && answer.response === stored)).toBe(true);
    expect(store.takeStats()).toMatchObject({ misses: 2, shared: 20, hits: 0, stored: 1 });
  });

  it("hands waiters nothing from a fill that may not be shared: one of them executes next", async () => {
    const store = new ResponseStore(limits);
    const first = fillOf(await store.acquire("k"));
    const settled: Acquired[] = [];
    const waiters = Array.from({ length: 5 }, async () => {
      const acquired = await store.acquire("k");
      settled.push(acquired);
      return acquired;
    });
    store.finish(first, undefined);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(settled.map((a) => a.kind)).toEqual(["fill"]);
    const stored = store.finish(fillOf(settled[0]!), { result: result("a"), tags: [] });
    const answers = await Promise.all(waiters);
    expect(answers.filter((a) => a.kind === "hit" && a.response === stored)).toHaveLength(4);
  });

  it("expires entries after the TTL and evicts the least recently used beyond its bounds", async () => {
    let now = 0;
    const store = new ResponseStore({ ttlMs: 1_000, maxEntries: 2, maxBytes: 1_000_000 }, () => now);
    for (const key of ["a", "b"]) {
      store.finish(fillOf(await store.acquire(key)), { result: result(key), tags: [`Ticket:${key}`] });
    }
    expect((await store.acquire("a")).kind).toBe("hit");
    store.finish(fillOf(await store.acquire("c")), { result: result("c"), tags: [] });
    // "b" was the least recently used.
    expect(store.get("b")).toBeUndefined();
    expect(store.get("a")).toBeDefined();
    now = 1_000;
    expect(store.get("a")).toBeUndefined();
    expect(store.takeStats()).toMatchObject({ evicted: 1, expired: 1, entries: 1 });
    // An evicted entry leaves nothing behind in the index.
    expect(store.invalidate(["Ticket:b", "Ticket:a"])).toBe(0);
  });

  it("keeps its byte budget and skips a response larger than all of it", async () => {
    const store = new ResponseStore({ ttlMs: 1_000, maxEntries: 100, maxBytes: 100 });
    const big = { data: { value: "x".repeat(200) } };
    expect(store.finish(fillOf(await store.acquire("big")), { result: big, tags: [] })).toBeUndefined();
    for (const key of ["a", "b", "c", "d"]) {
      store.finish(fillOf(await store.acquire(key)), {
        result: { data: { value: key.repeat(20) } },
        tags: [],
      });
    }
    const { bytes, entries } = store.takeStats();
    expect(bytes).toBeLessThanOrEqual(100);
    expect(entries).toBe(2);
  });

  it("gives a strong ETag of the response and freezes what it shares", async () => {
    const store = new ResponseStore(limits);
    const a = store.finish(fillOf(await store.acquire("a")), { result: result("same"), tags: [] });
    const b = store.finish(fillOf(await store.acquire("b")), { result: result("same"), tags: [] });
    const c = store.finish(fillOf(await store.acquire("c")), { result: result("other"), tags: [] });
    expect(a?.etag).toMatch(/^"[\w-]{43}"$/);
    expect(a?.etag).toBe(b?.etag);
    expect(a?.etag).not.toBe(c?.etag);
    expect(Object.isFrozen(a?.result.data)).toBe(true);
  });
});
