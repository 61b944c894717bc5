import { expect, it } from "vitest";
import { parseResaleListingId, resaleListingId } from "../src/resale.js";

it("names a pass's issue in its listing's ticket id, and reads it back", () => {
  const id = resaleListingId("0b6c-pass", 3);
  expect(id).toBe("resale-0b6c-pass-3");
  expect(parseResaleListingId(id)).toEqual({ passId: "0b6c-pass", issue: 3 });
  expect(parseResaleListingId("2f1e0c4a-ticket")).toBeNull();
  expect(parseResaleListingId("resale-x-0")).toBeNull();
});
