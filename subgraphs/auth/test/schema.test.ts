import { readFile } from "node:fs/promises";
import { expect, it } from "vitest";
import { buildAuthSchema } from "../src/schema/index.js";

it("has a committed schema.graphql equal to the generated SDL (run `npm run schema`)", async () => {
  const committed = await readFile(new URL("../schema.graphql", import.meta.url), "utf8");
  const { sdl } = await buildAuthSchema();
  expect(committed).toBe(sdl);
});

it("offers the accounts part of the contract", async () => {
  const { sdl } = await buildAuthSchema();
  for (const line of [
    'type User\n  @key(fields: "id")',
    "me: User\n",
    "signUp(input: SignUpInput!): User!",
    "signIn(input: SignInInput!): User!",
    "signOut: Boolean!",
    "email: String\n",
    "roles: [Role!]!",
  ]) {
    expect(sdl).toContain(line);
  }
});
