import "reflect-metadata";
import { describe, expect, it } from "vitest";
import { printSubgraphSdl } from "../src/index.js";
import { greetingSubgraph } from "./fixtures/greetings.js";

describe("buildSubgraphSchemaFromTypeGraphQL", () => {
  it("produces a Federation 2 SDL with the entity's key, sorted and stable", async () => {
    const first = await greetingSubgraph();
    const second = await greetingSubgraph();
    expect(second.sdl).toBe(first.sdl);
    expect(printSubgraphSdl(first.schema)).toBe(first.sdl);
    expect(first.sdl).toMatch(
      /^extend schema\s+@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.7"/,
    );
    expect(first.sdl).toMatch(/type Greeting\s+@key\(fields: "id"\)/);
    const typeNames = [...first.sdl.matchAll(/^type (\w+)/gm)].map((match) => match[1]);
    expect(typeNames).toEqual(["Greeting", "Mutation", "Query", "WhoAmI"]);
    expect(first.sdl.endsWith("}\n")).toBe(true);
  });
});
