import { readFile } from "node:fs/promises";
import { expect, it } from "vitest";
import { buildPassesSchema } from "../src/schema/index.js";

it("has a committed schema.graphql equal to the generated SDL (run `npm run schema`)", async () => {
  const committed = await readFile(new URL("../schema.graphql", import.meta.url), "utf8");
  const { sdl } = await buildPassesSchema();
  expect(committed).toBe(sdl);
});
