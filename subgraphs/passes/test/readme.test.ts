import { readFile } from "node:fs/promises";
import { expect, it } from "vitest";
import { ENV_VARIABLES } from "../src/env.js";

it("documents exactly the variables env.ts reads", async () => {
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## Using it"));
  const documented = [...section.matchAll(/^\| `([A-Z_]+)`/gm)].map((match) => match[1]);
  expect(documented.sort()).toEqual([...ENV_VARIABLES].sort());
});
