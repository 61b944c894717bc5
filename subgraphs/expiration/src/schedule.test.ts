import { describe, expect, it } from "vitest";
import { delayUntil, dueEventId, jobIdFor, retryDelay } from "./schedule.js";

describe("delayUntil", () => {
  const now = Date.parse("2030-01-01T12:00:00.000Z");

  it("is the time left until the hold ends", () => {
    expect(delayUntil("2030-01-01T12:15:00.000Z", now)).toBe(900_000);
    expect(delayUntil("2030-01-01T13:00:00.250+01:00", now)).toBe(250);
  });

  it("is 0 for a hold that has already ended", () => {
    expect(delayUntil("2030-01-01T11:59:59.000Z", now)).toBe(0);
    expect(delayUntil("2030-01-01T12:00:00.000Z", now)).toBe(0);
  });

  it("refuses what is not a date", () => {
    expect(() => delayUntil("soon", now)).toThrow(RangeError);
  });
});

describe("jobIdFor", () => {
  it("is the order id itself for ids BullMQ accepts", () => {
    expect(jobIdFor("0b6f4f5e-8a51-4c1e-9d3a-2f6a9f1f6c11")).toBe("0b6f4f5e-8a51-4c1e-9d3a-2f6a9f1f6c11");
    expect(jobIdFor("order-7")).toBe("order-7");
    expect(jobIdFor("12ab")).toBe("12ab");
  });

  it("encodes ids BullMQ refuses: integers and ids with a colon", () => {
    for (const id of ["42", "a:b", "a:b:c"]) {
      const jobId = jobIdFor(id);
      expect(jobId.startsWith("~")).toBe(true);
      expect(jobId).not.toContain(":");
      expect(`${parseInt(jobId, 10)}`).not.toBe(jobId);
    }
  });

  it("never gives two orders one job", () => {
    const ids = ["42", "a:b", "~NDI", "~YTpi", "NDI", "x", "~"];
    const jobIds = ids.map(jobIdFor);
    expect(new Set(jobIds).size).toBe(ids.length);
  });
});

it("gives each order one expiration.due id", () => {
  expect(dueEventId("o-1")).toBe("expiration.due:o-1");
  expect(dueEventId("o-1")).not.toBe(dueEventId("o-2"));
});

it("backs off by doubling up to a minute", () => {
  expect([1, 2, 3, 4, 7, 8, 30].map(retryDelay)).toEqual([
    1_000, 2_000, 4_000, 8_000, 60_000, 60_000, 60_000,
  ]);
});
