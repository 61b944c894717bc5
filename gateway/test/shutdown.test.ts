// The gateway's side of a rollout: told to drain, it reports unready at once but goes on
// serving, each answer closing its connection so the client's next request goes to another
// replica; closed, it stops taking requests.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startSystem, type System } from "./support.js";

const EVENTS = "query Events { events(first: 1) { edges { node { id } } } }";

let system: System;
beforeAll(async () => {
  system = await startSystem();
});
afterAll(() => system?.stop());

const query = () =>
  fetch(`${system.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: EVENTS }),
  });

it("drains: unready at once, still serving, every answer closing its connection; then closes", async () => {
  expect((await fetch(`${system.url}/readyz`)).status).toBe(200);
  const before = await query();
  expect(before.status).toBe(200);
  expect(before.headers.get("connection")).toBe("keep-alive");

  system.gateway.drain();
  const readyz = await fetch(`${system.url}/readyz`);
  expect(readyz.status).toBe(503);
  expect(await readyz.json()).toMatchObject({ status: "unready", checks: { graph: "failed" } });
  const during = await query();
  expect(during.status).toBe(200);
  expect(during.headers.get("connection")).toBe("close");

  const started = Date.now();
  await system.gateway.close(5_000);
  // Nothing was in flight: the kept-alive connections did not hold the close up.
  expect(Date.now() - started).toBeLessThan(3_000);
  await expect(query()).rejects.toThrow();
});
