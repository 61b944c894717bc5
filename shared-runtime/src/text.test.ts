import { describe, expect, it } from "vitest";
import { hasBidiControl, showsNothing } from "./text.js";

describe("text people read", () => {
  it("finds the characters that reorder text", () => {
    expect(hasBidiControl("\u202Egnp.exe")).toBe(true);
    expect(hasBidiControl("a\u2066b")).toBe(true);
    expect(hasBidiControl("שלום Berlin")).toBe(false);
  });

  it("tells a text that shows nothing", () => {
    for (const blank of ["", "   ", "\u200B", "\u200B\u200D\uFEFF \t", "\u00AD"])
      expect(showsNothing(blank)).toBe(true);
    for (const shown of ["a", "🎫", "👩‍👩‍👧", " x\u200B"]) expect(showsNothing(shown)).toBe(false);
  });
});
