import { describe, expect, it } from "vitest";
import { parseNatsUrl, reconnectBackoff } from "./nats.js";

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

describe("parseNatsUrl", () => {
  it("takes the credentials out of every server of the list", () => {
    expect(parseNatsUrl("nats://orders:s%40cret@nats-0:4222,nats://orders:s%40cret@nats-1:4222")).toEqual({
      servers: ["nats://nats-0:4222", "nats://nats-1:4222"],
      user: "orders",
      pass: "s@cret",
    });
  });

  it("leaves a URL without credentials as it is", () => {
    expect(parseNatsUrl("nats://127.0.0.1:4322,localhost:4223")).toEqual({
      servers: ["nats://127.0.0.1:4322", "localhost:4223"],
    });
  });

  it("refuses servers that disagree on the user", () => {
    expect(() => parseNatsUrl("nats://a:x@one:4222,nats://b:y@two:4222")).toThrow(/different credentials/);
  });
});
