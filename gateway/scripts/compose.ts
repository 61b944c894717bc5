// npm run compose: writes gateway/supergraph.graphql from the subgraphs' committed SDL.
import { writeFileSync } from "node:fs";
import { composeSupergraph, SUPERGRAPH_FILE } from "./composition.js";

writeFileSync(SUPERGRAPH_FILE, composeSupergraph());
console.log(`wrote ${SUPERGRAPH_FILE}`);
