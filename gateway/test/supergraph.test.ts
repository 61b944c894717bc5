import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { composeSupergraph, SUPERGRAPH_FILE } from "../scripts/composition.js";

it("has a committed supergraph composed from the subgraphs' committed SDL (npm run compose)", () => {
  expect(readFileSync(SUPERGRAPH_FILE, "utf8")).toBe(composeSupergraph());
});
