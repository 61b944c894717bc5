// Writes the subgraph's SDL to schema.graphql; a test fails while the committed file is stale.
import { writeFile } from "node:fs/promises";
import { buildPassesSchema } from "../src/schema/index.js";

const target = new URL("../schema.graphql", import.meta.url);
const { sdl } = await buildPassesSchema();
await writeFile(target, sdl);
console.log(`wrote ${target.pathname}`);
