// The gateway's door for writes: past the mutations it serves at once and the line it can serve
// within the budget, a mutation is refused at once with RATE_LIMITED and a Retry-After, while
// queries go on.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { sha256Hex } from "../src/persisted.js";
import { writeAdmission } from "../src/write-admission.js";

const MUTATION = "mutation Buy($t: ID!) { createOrder(ticketId: $t) { id } }";
const QUERY = "query Page { events(first: 1) { edges { node { id } } } }";

let server: Server | undefined;
afterEach(
  () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);

/** A graph behind the door that answers a mutation only once `release` is called. */
async function door(concurrency: number, budgetMs: number) {
  const held: (() => void)[] = [];
  let reached = 0;
  const app = express();
  app.use(
    express.json(),
    writeAdmission({
      concurrency,
      budgetMs,
      documents: {
        get: (hash) => (hash === sha256Hex(MUTATION) ? MUTATION : undefined),
        has: () => true,
        size: 1,
      },
    }),
    (req, res) => {
      reached++;
      const body = req.body as { query?: string; extensions?: unknown };
      const answer = () => void res.json({ data: { reached: true } });
      // The mutation, sent or persisted, is held; anything else is answered at once.
      if (body.query === MUTATION || body.extensions !== undefined) held.push(answer);
      else answer();
    },
  );
  server = createServer(app);
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const send = async (body: unknown) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      retryAfter: response.headers.get("retry-after"),
      body: (await response.json()) as { errors?: { extensions: { code: string; retryAfter: number } }[] },
    };
  };
  return { send, held, reached: () => reached };
}

describe("the write admission", () => {
  it("refuses mutations past what it can serve in time, at once, and lets queries through", async () => {
    const graph = await door(2, 50);
    const mutations = Array.from({ length: 40 }, (_, n) =>
      graph.send({ query: MUTATION, variables: { t: `t${n}` } }),
    );
    // Two are served and some wait in line; the rest are answered without reaching the graph.
    const refused: Awaited<(typeof mutations)[number]>[] = [];
    for (const answer of mutations) {
      const settled = await Promise.race([answer, new Promise((resolve) => setTimeout(resolve, 20, null))]);
      if (settled) refused.push(settled as Awaited<(typeof mutations)[number]>);
    }
    expect(graph.reached()).toBe(2);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length).toBeLessThan(38);
    for (const answer of refused) {
      expect(answer.status).toBe(429);
      const [error] = answer.body.errors!;
      expect(error?.extensions.code).toBe("RATE_LIMITED");
      expect(error?.extensions.retryAfter).toBeGreaterThanOrEqual(1);
      expect(answer.retryAfter).toBe(String(error?.extensions.retryAfter));
    }

    // A query is not held by the mutations.
    expect((await graph.send({ query: QUERY })).status).toBe(200);
    // Nor is a document that does not parse: the graph answers it.
    expect((await graph.send({ query: "mutation {" })).status).toBe(200);
    expect(graph.reached()).toBe(4);

    // The line is served as the mutations under way finish.
    const waiting = 40 - refused.length;
    for (let answered = 0; answered < waiting; answered++) {
      await expect.poll(() => graph.held.length).toBeGreaterThan(0);
      graph.held.shift()!();
    }
    const answers = await Promise.all(mutations);
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(waiting);
  });

  it("knows a persisted mutation by its hash", async () => {
    const graph = await door(1, 1);
    const persisted = { extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(MUTATION) } } };
    const first = graph.send(persisted);
    await expect.poll(() => graph.reached()).toBe(1);
    // The one slot is taken and the line has no room within 1 ms.
    const second = await graph.send(persisted);
    expect(second.status).toBe(429);
    graph.held.shift()!();
    expect((await first).status).toBe(200);
  });
});
