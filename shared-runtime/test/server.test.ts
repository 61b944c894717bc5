import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSubgraphServer, createTokenVerifier, type SubgraphServer } from "../src/index.js";
import { greetingSubgraph } from "./fixtures/greetings.js";
import { capturingLogger, graphql, serveJwks } from "./support.js";

describe("the subgraph server", () => {
  let server: SubgraphServer<object>;
  let jwks: Awaited<ReturnType<typeof serveJwks>>;
  let base: string;
  let url: string;
  let sdl: string;
  const logs = capturingLogger();

  beforeAll(async () => {
    jwks = await serveJwks([]);
    const subgraph = await greetingSubgraph();
    sdl = subgraph.sdl;
    server = createSubgraphServer({
      name: "greetings",
      schema: subgraph.schema,
      logger: logs.logger,
      verifier: createTokenVerifier({ jwksUrl: jwks.url }),
    });
    const { port } = await server.listen(0, "127.0.0.1");
    base = `http://127.0.0.1:${port}`;
    url = `${base}/graphql`;
  });

  afterAll(async () => {
    await server.close();
    await jwks.close();
  });

  it("answers a query", async () => {
    const response = await graphql(url, "query ($id: ID!) { greeting(id: $id) { id text } }", {
      variables: { id: "1" },
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { greeting: { id: "1", text: "hello" } } });
  });

  it("serves its federation SDL with the entity's key", async () => {
    const response = await graphql(url, "{ _service { sdl } }");
    const served = (response.body.data?._service as { sdl: string }).sdl;
    expect(served).toMatch(/type Greeting\s+@key\(fields: "id"\)/);
    expect(served).toContain("https://specs.apollo.dev/federation/v2.7");
    expect(sdl).toMatch(/type Greeting\s+@key\(fields: "id"\)/);
  });

  it("resolves entities by reference", async () => {
    const response = await graphql(
      url,
      "query ($r: [_Any!]!) { _entities(representations: $r) { ... on Greeting { id text } } }",
      { variables: { r: [{ __typename: "Greeting", id: "1" }] } },
    );
    expect(response.body).toEqual({ data: { _entities: [{ id: "1", text: "hello" }] } });
  });

  it("masks an unexpected error and logs it with the request id", async () => {
    const response = await graphql(url, "{ broken }", { headers: { "x-request-id": "req-broken-1" } });
    expect(response.status).toBe(200);
    expect(response.body.errors).toEqual([
      {
        message: "Internal server error",
        locations: [{ line: 1, column: 3 }],
        path: ["broken"],
        extensions: { code: "INTERNAL_SERVER_ERROR" },
      },
    ]);
    expect(response.text).not.toContain("E11000");
    expect(response.text).not.toContain("stacktrace");
    const logged = logs
      .lines()
      .find((line) => line.msg === "unexpected error" && line.requestId === "req-broken-1");
    expect((logged?.err as { message: string } | undefined)?.message).toContain("E11000");
  });

  it("shows an expected error that wraps a driver error, not the driver's message", async () => {
    const response = await graphql(url, "mutation { claimGreeting { id } }");
    expect(response.body.errors?.[0]).toMatchObject({
      message: "That greeting is taken",
      extensions: { code: "CONFLICT" },
    });
    expect(response.text).not.toContain("E11000");
  });

  it("answers BAD_USER_INPUT with the offending field", async () => {
    const response = await graphql(url, 'mutation { setGreeting(id: "2", text: "  ") { id } }');
    expect(response.body.errors?.[0]).toMatchObject({
      message: "A greeting needs some text",
      extensions: { code: "BAD_USER_INPUT", field: "text" },
    });
    expect(Object.keys(response.body.errors?.[0]?.extensions ?? {})).toEqual(["code", "field"]);
  });

  it("turns a class-validator failure into BAD_USER_INPUT with the field", async () => {
    const response = await graphql(url, 'mutation { renameGreeting(id: "3", text: "") { id } }');
    expect(response.body.errors?.[0]).toMatchObject({
      message: "text must be longer than or equal to 1 characters",
      extensions: { code: "BAD_USER_INPUT", field: "text" },
    });
  });

  it("answers malformed JSON with a GraphQL-shaped 400", async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"query": ',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe("BAD_REQUEST");
  });

  it("refuses a body over the limit with 413, not 5xx", async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: `{ greeting(id: "${"x".repeat(1_100_000)}") { id } }` }),
    });
    expect(response.status).toBe(413);
  });

  it.each([
    ["an array", "[]"],
    ["a query that is not a string", '{"query": 5}'],
    ["no query at all", "{}"],
  ])("answers a JSON body with %s with 400", async (_what, body) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(response.status).toBe(400);
  });

  it("blocks simple requests as possible CSRF", async () => {
    const plain = await fetch(url, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: '{"query":"{ requestId }"}',
    });
    expect(plain.status).toBe(400);
    expect(await plain.text()).toContain("Cross-Site Request Forgery");

    const get = await fetch(`${url}?query=${encodeURIComponent("{ requestId }")}`);
    expect(get.status).toBe(400);

    const preflighted = await fetch(`${url}?query=${encodeURIComponent("{ requestId }")}`, {
      headers: { "apollo-require-preflight": "true" },
    });
    expect(preflighted.status).toBe(200);
  });

  it("carries the caller's request id, or makes one, and echoes it", async () => {
    const given = await graphql(url, "{ requestId }", { headers: { "x-request-id": "from-gateway-42" } });
    expect(given.headers.get("x-request-id")).toBe("from-gateway-42");
    expect(given.body.data).toEqual({ requestId: "from-gateway-42" });

    const withoutUsableId: Record<string, string>[] = [{}, { "x-request-id": "bad id\twith spaces" }];
    for (const headers of withoutUsableId) {
      const made = await graphql(url, "{ requestId }", { headers });
      const id = made.headers.get("x-request-id");
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(made.body.data).toEqual({ requestId: id });
    }
  });

  it("treats a request without a token as anonymous and ignores identity headers", async () => {
    const response = await graphql(url, "{ whoami { userId } }", { headers: { "x-user-id": "user-1" } });
    expect(response.body).toEqual({ data: { whoami: null } });
  });

  it("keeps credentials out of the request log", async () => {
    await graphql(url, "{ requestId }", {
      headers: { authorization: "Basic c2VjcmV0LWNyZWRlbnRpYWw=", cookie: "session=secret-cookie" },
    });
    expect(logs.text()).not.toContain("c2VjcmV0LWNyZWRlbnRpYWw");
    expect(logs.text()).not.toContain("secret-cookie");
    const entry = logs
      .lines()
      .find((line) => line.msg === "request completed" && JSON.stringify(line).includes("[redacted]"));
    expect(entry?.req).toMatchObject({ headers: { authorization: "[redacted]", cookie: "[redacted]" } });
  });

  it("answers /healthz, and 404 elsewhere", async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/elsewhere`)).status).toBe(404);
  });

  it("refuses introspection unless enabled", async () => {
    const response = await graphql(url, "{ __schema { types { name } } }");
    expect(response.body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");

    const open = createSubgraphServer({
      name: "open",
      schema: (await greetingSubgraph()).schema,
      logger: logs.logger,
      verifier: createTokenVerifier({ jwksUrl: jwks.url }),
      introspection: true,
    });
    const { port } = await open.listen(0, "127.0.0.1");
    try {
      const allowed = await graphql(
        `http://127.0.0.1:${port}/graphql`,
        "{ __schema { queryType { name } } }",
      );
      expect(allowed.body).toEqual({ data: { __schema: { queryType: { name: "Query" } } } });
    } finally {
      await open.close();
    }
  });
});

describe("a subgraph server shutting down", () => {
  it("reports unready at once but serves on, closing each connection after its answer", async () => {
    const jwks = await serveJwks([]);
    const server = createSubgraphServer({
      name: "greetings",
      schema: (await greetingSubgraph()).schema,
      logger: capturingLogger().logger,
      verifier: createTokenVerifier({ jwksUrl: jwks.url }),
      routes: (app) =>
        app.get("/slow", (_req, res) => {
          setTimeout(() => res.json({ done: true }), 300);
        }),
    });
    const { port } = await server.listen(0, "127.0.0.1");
    const base = `http://127.0.0.1:${port}`;
    try {
      // Asked before the drain, answered during it: its connection is closed after it too.
      const slow = fetch(`${base}/slow`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const before = await fetch(`${base}/readyz`);
      expect(before.status).toBe(200);
      expect(before.headers.get("connection")).toBe("keep-alive");

      server.drain();
      expect((await slow).headers.get("connection")).toBe("close");
      const unready = await fetch(`${base}/readyz`);
      expect(unready.status).toBe(503);
      expect(await unready.json()).toMatchObject({ status: "unready", closing: true });
      const answer = await graphql(`${base}/graphql`, "query ($id: ID!) { greeting(id: $id) { id } }", {
        variables: { id: "1" },
      });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ data: { greeting: { id: "1" } } });
      expect(answer.headers.get("connection")).toBe("close");

      // An idle kept-alive connection does not hold the close up for its grace period.
      const started = Date.now();
      await server.close(10_000);
      expect(Date.now() - started).toBeLessThan(2_000);
      await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    } finally {
      await server.close();
      await jwks.close();
    }
  });
});
