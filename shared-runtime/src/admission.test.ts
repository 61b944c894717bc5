import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { Admission } from "./admission.js";
import { metrics } from "./telemetry/metrics.js";

const refusalsOf = async (limiter: string) =>
  (await metrics.rateLimitRefusals.get()).values.find((value) => value.labels.limiter === limiter)?.value;

/** Work that runs until the test lets it finish. */
function held() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { work: () => done, finish };
}

describe("Admission", () => {
  it("queues within the budget and refuses past it at once, with RATE_LIMITED and retryAfter", async () => {
    // One at a time, 10 ms of waiting allowed; work is assumed to take 5 ms until measured.
    const admission = new Admission({ concurrency: 1, budgetMs: 10, retryAfterSeconds: 2, name: "checkout" });
    expect(await refusalsOf("checkout")).toBe(0);
    const first = held();
    const running = admission.run(first.work);
    const second = admission.run(() => Promise.resolve("second"));
    const third = admission.run(() => Promise.resolve("third"));
    expect(admission.load).toMatchObject({ active: 1, waiting: 2 });
    // A fourth would wait 15 ms: refused without waiting.
    const refused = await admission.run(() => Promise.resolve("fourth")).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(GraphQLError);
    expect((refused as GraphQLError).extensions).toEqual({ code: "RATE_LIMITED", retryAfter: 2 });
    expect(await refusalsOf("checkout")).toBe(1);

    first.finish();
    await running;
    expect(await Promise.all([second, third])).toEqual(["second", "third"]);
    expect(admission.load).toMatchObject({ active: 0, waiting: 0 });
  });

  it("spreads the refused over as many seconds as serving them takes, so they come back apart", async () => {
    // One at a time, no line: about 200 a second are served (5 ms each, until measured).
    const admission = new Admission({ concurrency: 1, budgetMs: 0 });
    const first = held();
    const running = admission.run(first.work);
    const waits: number[] = [];
    for (let i = 0; i < 1_000; i++) {
      const error = await admission.run(() => Promise.resolve()).catch((refusal: GraphQLError) => refusal);
      waits.push(Number((error as GraphQLError).extensions.retryAfter));
    }
    first.finish();
    await running;
    // The first refused come back after a second; later ones are told up to five.
    expect(waits[0]).toBe(1);
    expect(Math.min(...waits)).toBe(1);
    expect(Math.max(...waits)).toBeGreaterThan(2);
    expect(Math.max(...waits)).toBeLessThanOrEqual(5);
  });

  it("gives the slot back when the work fails", async () => {
    const admission = new Admission({ concurrency: 1, budgetMs: 0 });
    await expect(admission.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await admission.run(() => Promise.resolve("next"))).toBe("next");
  });

  it("gives an acquired place back once, however often its release is called", async () => {
    const admission = new Admission({ concurrency: 1, budgetMs: 100 });
    const release = await admission.acquire();
    const waiting = admission.acquire();
    expect(admission.load).toMatchObject({ active: 1, waiting: 1 });
    release();
    const next = await waiting;
    expect(admission.load).toMatchObject({ active: 1, waiting: 0 });
    // Called again, it neither frees the place the next one holds nor counts below zero.
    release();
    expect(admission.load).toMatchObject({ active: 1, waiting: 0 });
    next();
    next();
    expect(admission.load).toMatchObject({ active: 0, waiting: 0 });
  });
});
