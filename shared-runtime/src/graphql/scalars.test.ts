import { Kind } from "graphql";
import { describe, expect, it } from "vitest";
import { DateTimeScalar, parseDateTime } from "./scalars.js";

describe("DateTime inputs", () => {
  it("accepts RFC 3339 date-times with an offset", () => {
    expect(parseDateTime("2030-05-01T19:30:00Z")?.toISOString()).toBe("2030-05-01T19:30:00.000Z");
    expect(parseDateTime("2030-05-01T21:30:00.5+02:00")?.toISOString()).toBe("2030-05-01T19:30:00.500Z");
    expect(parseDateTime("2028-02-29T00:00:00Z")?.toISOString()).toBe("2028-02-29T00:00:00.000Z");
  });

  it.each([
    "2030-02-30T00:00:00Z",
    "2029-02-29T00:00:00Z",
    "2030-13-01T00:00:00Z",
    "2030-00-01T00:00:00Z",
    "2030-04-31T00:00:00Z",
    "2030-05-01T24:00:00Z",
    "2030-05-01T19:60:00Z",
    "2030-05-01T19:30:60Z",
    "2030-05-01T19:30:00+24:00",
    "2030-05-01T19:30:00",
    "2030-05-01T19:30Z",
    "2030-05-01",
    " 2030-05-01T19:30:00Z",
    "2030-05-01T19:30:00Z ",
    "+275760-09-13T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "",
    "garbage",
  ])("refuses %j", (value) => {
    expect(parseDateTime(value)).toBeUndefined();
  });

  it.each([0, 1_900_000_000_000, null, {}, ["2030-05-01T19:30:00Z"], true])("refuses %j", (value) => {
    expect(parseDateTime(value)).toBeUndefined();
  });

  it("parses what it refuses to an invalid Date, for the resolver to refuse with the argument's name", () => {
    expect(Number.isNaN(DateTimeScalar.parseValue("2030-02-30T00:00:00Z").getTime())).toBe(true);
    expect(Number.isNaN(DateTimeScalar.parseLiteral({ kind: Kind.INT, value: "1" }).getTime())).toBe(true);
    expect(DateTimeScalar.parseLiteral({ kind: Kind.STRING, value: "2030-05-01T19:30:00Z" }).getTime()).toBe(
      Date.UTC(2030, 4, 1, 19, 30),
    );
  });
});
