// Composes the supergraph from each subgraph's committed SDL (its package's schema.graphql).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";
import { SUBGRAPHS } from "../src/subgraphs.js";

export const SUPERGRAPH_FILE = fileURLToPath(new URL("../supergraph.graphql", import.meta.url));

export function composeSupergraph(): string {
  const services = SUBGRAPHS.map((subgraph) => ({
    name: subgraph.name,
    url: subgraph.url,
    typeDefs: parse(
      readFileSync(fileURLToPath(import.meta.resolve(`${subgraph.package}/schema.graphql`)), "utf8"),
    ),
  }));
  const result = composeServices(services);
  if (result.errors) {
    throw new Error(`composition failed:\n${result.errors.map((error) => `  ${error.message}`).join("\n")}`);
  }
  return `${result.supergraphSdl.trim()}\n`;
}
