import { describe, expect, it } from "vitest";
import { reconnectBackoff } from "./nats.js";

describe("reconnectBackoff", () => {
  it("doubles up to the cap, each wait in the upper half of its step, and starts over after a reset", () => {
    const backoff = reconnectBackoff(100, 1_000);
    const steps = [100, 200, 400, 800, 1_000, 1_000, 1_000];
    for (const ceiling of steps) {
      const wait = backoff.next();
      expect(wait).toBeGreaterThanOrEqual(ceiling / 2);
      expect(wait).toBeLessThanOrEqual(ceiling);
    }
    backoff.reset();
    expect(backoff.next()).toBeLessThanOrEqual(100);
  });

  it("spreads the waits of processes that lost the same server", () => {
    const waits = new Set(Array.from({ length: 20 }, () => reconnectBackoff(1_000, 1_000).next()));
    expect(waits.size).toBeGreaterThan(1);
  });
});
