import { describe, expect, it } from "vitest";
import { instant, money, validateChanges, validateEvent, validateListing } from "./validation.js";

const fieldOf = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    return (error as { extensions?: { field?: string } }).extensions?.field;
  }
  return undefined;
};

describe("validation", () => {
  it("trims event fields and normalises the start to UTC", () => {
    expect(
      validateEvent({
        name: " A ",
        venue: "V",
        city: "C",
        startsAt: new Date("2030-01-01T01:00:00+01:00"),
        category: " ",
      }),
    ).toEqual({ name: "A", venue: "V", city: "C", startsAt: "2030-01-01T00:00:00.000Z", category: null });
  });

  it("counts characters, not UTF-16 units", () => {
    expect(
      validateListing({ eventId: "e", title: "🎫".repeat(120), price: { amount: 1, currency: "USD" } }).title,
    ).toBe("🎫".repeat(120));
  });

  it("names the offending field", () => {
    expect(fieldOf(() => instant(new Date("nope"), "startsAt"))).toBe("startsAt");
    expect(fieldOf(() => money({ amount: 1.5, currency: "USD" }, "price"))).toBe("price.amount");
    expect(fieldOf(() => money({ amount: 5, currency: "usd" }, "price"))).toBe("price.currency");
    expect(
      fieldOf(() => validateEvent({ name: "a\u0007", venue: "v", city: "c", startsAt: new Date() })),
    ).toBe("name");
  });

  it("refuses text that shows nothing or reorders itself, and keeps what only looks unusual", () => {
    const event = { venue: "v", city: "c", startsAt: new Date() };
    expect(fieldOf(() => validateEvent({ ...event, name: "\u200B\u200D" }))).toBe("name");
    expect(fieldOf(() => validateEvent({ ...event, name: "Show \u202Egnp.exe" }))).toBe("name");
    expect(validateEvent({ ...event, name: "Ball", category: "\u200B" }).category).toBeNull();
    expect(validateEvent({ ...event, name: "👩‍👩‍👧 שלום" }).name).toBe("👩‍👩‍👧 שלום");
  });

  it("keeps absent fields of an update and clears a null section", () => {
    expect(validateChanges({})).toEqual({});
    expect(validateChanges({ title: null, section: null, price: null })).toEqual({ section: null });
  });
});
