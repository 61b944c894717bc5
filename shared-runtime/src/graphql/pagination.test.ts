import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, pageSize, toPage } from "./pagination.js";

describe("pagination", () => {
  it("takes 20 by default, at most 100, and refuses a negative size", () => {
    expect(pageSize(undefined)).toBe(20);
    expect(pageSize(null)).toBe(20);
    expect(pageSize(0)).toBe(0);
    expect(pageSize(250)).toBe(100);
    expect(() => pageSize(-1)).toThrow(/first/);
  });

  it("round-trips cursors and refuses foreign ones", () => {
    expect(decodeCursor(encodeCursor("2030-01-01T00:00:00.000Z", "e1"))).toEqual({
      key: "2030-01-01T00:00:00.000Z",
      id: "e1",
    });
    expect(decodeCursor(null)).toBeNull();
    for (const bad of [
      "",
      "abc",
      Buffer.from("[1,2]").toString("base64url"),
      Buffer.from('"x"').toString("base64url"),
    ]) {
      expect(() => decodeCursor(bad)).toThrow(/cursor/);
    }
  });

  it("reports a next page only when there is one more row", () => {
    const rows = ["a", "b", "c"];
    expect(toPage(rows, 2, (row) => [row, row]).pageInfo).toEqual({
      hasNextPage: true,
      endCursor: encodeCursor("b", "b"),
    });
    expect(toPage(rows, 3, (row) => [row, row]).pageInfo.hasNextPage).toBe(false);
    expect(toPage([], 3, (row: string) => [row, row]).pageInfo).toEqual({
      hasNextPage: false,
      endCursor: null,
    });
  });
});
