import { describe, expect, it } from "vitest";
import { Batcher, MAX_BATCH } from "../src/index.js";

describe("the batcher", () => {
  it("writes what is queued together, in order, each item once and at most MAX_BATCH at a time", async () => {
    const writes: number[][] = [];
    const batcher = new Batcher<number>(async (items) => {
      writes.push(items);
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
    const items = Array.from({ length: 3 * MAX_BATCH + 7 }, (_, i) => i);
    await Promise.all(items.map((item) => batcher.add(item)));
    expect(writes.flat()).toEqual(items);
    expect(Math.max(...writes.map((write) => write.length))).toBe(MAX_BATCH);
    expect(writes).toHaveLength(4);
  });

  it("rejects the items of a batch that failed and goes on with the next", async () => {
    let calls = 0;
    const batcher = new Batcher<number>(() => {
      calls++;
      return calls === 1 ? Promise.reject(new Error("the database is away")) : Promise.resolve();
    }, 2);
    const first = [batcher.add(1), batcher.add(2)];
    const third = batcher.add(3);
    await expect(Promise.all(first)).rejects.toThrow("the database is away");
    await expect(third).resolves.toBeUndefined();
  });
});
