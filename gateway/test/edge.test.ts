// Client mistakes and hostile input at the edge: each gets a 4xx with a code, never a 500, and
// never more access than the request is entitled to.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { Browser, ME, SIGN_UP, startSystem, type GraphQLResponse, type System } from "./support.js";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

async function post(
  system: System,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse> {
  const response = await fetch(`${system.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return new Browser(system.url).read(response);
}

function read(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
  });
}

/**
 * Stands between the gateway and auth: passes everything through, except API-key verification
 * when told to fail it, and counts the verifications it saw.
 */
function authProxy() {
  let target = "";
  const state = { verifyFails: false, verifications: 0 };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await read(req);
      if (req.url === "/api-keys/verify") {
        state.verifications += 1;
        if (state.verifyFails) {
          res.writeHead(503, { "content-type": "application/json" }).end('{"error":"down"}');
          return;
        }
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(
          (entry): entry is [string, string] => typeof entry[1] === "string" && entry[0] !== "host",
        ),
      );
      const forwarded = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers,
        ...(body.length > 0 ? { body } : {}),
      });
      res.writeHead(forwarded.status, {
        "content-type": forwarded.headers.get("content-type") ?? "application/json",
      });
      res.end(Buffer.from(await forwarded.arrayBuffer()));
    })();
  });
  return {
    state,
    server,
    async listen(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    setTarget(url: string) {
      target = url;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

let system: System;
const proxy = authProxy();
const opsEmail = `ops-${Date.now()}@example.com`;
const liveOpsEmail = `live-ops-${Date.now()}@example.com`;

beforeAll(async () => {
  const proxyUrl = await proxy.listen();
  system = await startSystem(
    { OPS_EMAILS: `${opsEmail},${liveOpsEmail}` },
    { AUTH_URL: proxyUrl },
    { tickets: true },
  );
  proxy.setTarget(system.auth.baseUrl);
});

afterAll(async () => {
  await system.stop();
  await proxy.close();
});

function expectClientError(result: GraphQLResponse, status: number, code: string) {
  expect(result.status).toBe(status);
  expect(result.errors?.[0]?.extensions?.code).toBe(code);
  expect(result.errors?.[0]?.message).not.toMatch(/internal server error/i);
}

describe("operations the document does not resolve", () => {
  it("refuses an unknown operationName with 400", async () => {
    const result = await post(system, { query: "{ me { id } }", operationName: "Nope" });
    expectClientError(result, 400, "OPERATION_RESOLUTION_FAILURE");
    expect(result.errors?.[0]?.message).toContain('"Nope"');
  });

  it("refuses two operations without an operationName, and an empty one", async () => {
    const query = "query A { me { id } } query B { events { edges { cursor } } }";
    expectClientError(await post(system, { query }), 400, "OPERATION_RESOLUTION_FAILURE");
    expectClientError(await post(system, { query, operationName: "" }), 400, "OPERATION_RESOLUTION_FAILURE");
    expectClientError(
      await post(system, { query: "{ me { id } }", operationName: "" }),
      400,
      "OPERATION_RESOLUTION_FAILURE",
    );
    // A document with only fragments has nothing to run either.
    const fragments = await post(system, { query: "fragment F on Query { me { id } }" });
    expect(fragments.status).toBe(400);
    // The one that is named still runs.
    const named = await post(system, { query, operationName: "A" });
    expect(named.status).toBe(200);
    expect(named.data).toEqual({ me: null });
  });

  it("sends subscriptions to the WebSocket", async () => {
    const result = await post(system, { query: "subscription { opsFeed { id } }" });
    expectClientError(result, 400, "BAD_REQUEST");
    expect(result.errors?.[0]?.message).toContain("WebSocket");
  });
});

describe("a session cookie that is no good", () => {
  const EVENTS = "{ events(first: 1) { edges { cursor } } }";

  it("is cleared and ignored by catalog reads, malformed or forged", async () => {
    for (const cookie of ["session=%E0%A4%A", "session=not-a-token", "other=1; session=%"]) {
      const result = await post(system, { query: EVENTS }, { cookie });
      expect(result.status).toBe(200);
      expect(result.errors).toBeUndefined();
      expect(result.data).toEqual({ events: { edges: expect.any(Array) as unknown } });
      expect(result.setCookies.find((c) => c.startsWith("session="))).toMatch(/Max-Age=0/);
    }
  });

  it("refuses what is about the caller with 401, and clears the cookie", async () => {
    const result = await post(system, { query: ME }, { cookie: "session=%E0%A4%A" });
    expectClientError(result, 401, "UNAUTHENTICATED");
    expect(result.setCookies.find((c) => c.startsWith("session="))).toMatch(/Max-Age=0/);
  });

  it("still refuses a bad bearer token, even for the catalog", async () => {
    const result = await post(system, { query: EVENTS }, { authorization: "Bearer nope" });
    expectClientError(result, 401, "UNAUTHENTICATED");
  });
});

describe("API keys that cannot be verified", () => {
  it("refuses an oversized key at the gateway, without asking auth", async () => {
    const before = proxy.state.verifications;
    for (const size of [257, 4_096, 10_240]) {
      const result = await post(system, { query: "{ __typename }" }, { "x-api-key": "k".repeat(size) });
      expectClientError(result, 401, "UNAUTHENTICATED");
    }
    expect(proxy.state.verifications).toBe(before);
  });

  it("refuses a key while auth cannot verify it, never serving it as anonymous", async () => {
    proxy.state.verifyFails = true;
    try {
      const result = await post(
        system,
        { query: "{ __typename }" },
        { "x-api-key": `tkt_${"0".repeat(16)}_x` },
      );
      expectClientError(result, 401, "UNAUTHENTICATED");
      expect(result.headers.get("retry-after")).toBe("5");
      // Without a key the graph is still open.
      expect((await post(system, { query: "{ __typename }" })).status).toBe(200);
    } finally {
      proxy.state.verifyFails = false;
    }
  });
});

describe("persisted queries", () => {
  const query = "{ __typename }";

  it("refuses an unsupported version, a non-object persistedQuery and a wrong hash with 400", async () => {
    const cases = [
      { query, extensions: { persistedQuery: { version: 2, sha256Hash: sha256(query) } } },
      { query, extensions: { persistedQuery: "yes" } },
      { query, extensions: { persistedQuery: [1] } },
      { query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256("{ me { id } }") } } },
      { query, extensions: { persistedQuery: { version: 1, sha256Hash: 42 } } },
    ];
    for (const body of cases) {
      const result = await post(system, body);
      expect(result.status, JSON.stringify(body)).toBe(400);
      expect(["BAD_REQUEST", "PERSISTED_QUERY_NOT_SUPPORTED"]).toContain(
        result.errors?.[0]?.extensions?.code,
      );
    }
  });

  it("still registers and runs a persisted query", async () => {
    const persistedQuery = { version: 1, sha256Hash: sha256(query) };
    const registered = await post(system, { query, extensions: { persistedQuery } });
    expect(registered.data).toEqual({ __typename: "Query" });
    const byHash = await post(system, { extensions: { persistedQuery } });
    expect(byHash.data).toEqual({ __typename: "Query" });
  });
});

it("signs up and reads the catalog with the session it got (the happy path is untouched)", async () => {
  const browser = new Browser(system.url);
  const email = `edge-${Date.now()}@example.com`;
  const signedUp = await browser.graphql(SIGN_UP, {
    input: { email, password: "correct horse battery", displayName: "Edge" },
  });
  expect(signedUp.errors).toBeUndefined();
  const me = await browser.graphql<{ me: { email: string } }>(ME);
  expect(me.data?.me.email).toBe(email);
});

describe("DateTime inputs", () => {
  const BAD_DATES: unknown[] = [
    "garbage",
    "",
    "2030-02-30T00:00:00Z",
    "2030-13-01T00:00:00Z",
    "2030-05-01T19:30:00",
    "2030-05-01",
    " 2030-05-01T19:30:00Z",
    "+275760-09-13T00:00:00.000Z",
    1_900_000_000_000,
    { $gt: "" },
    ["2030-05-01T19:30:00Z"],
  ];
  const EVENTS = "query ($filter: EventFilter) { events(filter: $filter) { edges { cursor } } }";
  const CREATE = "mutation ($input: CreateEventInput!) { createEvent(input: $input) { id startsAt } }";

  it("refuses each bad date in the events filter as BAD_USER_INPUT naming the field", async () => {
    for (const field of ["startsAfter", "startsBefore"]) {
      for (const value of BAD_DATES) {
        const result = await post(system, { query: EVENTS, variables: { filter: { [field]: value } } });
        expect(result.status, JSON.stringify(value)).toBeLessThan(500);
        expect(result.errors?.[0]?.extensions, `${field} ${JSON.stringify(value)}`).toEqual({
          code: "BAD_USER_INPUT",
          field: `filter.${field}`,
        });
      }
    }
    // Written into the document instead of a variable: the same answer.
    const literal = await post(system, {
      query: '{ events(filter: { startsAfter: "2030-02-30T00:00:00Z" }) { edges { cursor } } }',
    });
    expect(literal.errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "filter.startsAfter" });
  });

  it("refuses each bad startsAt of createEvent, and creates nothing", async () => {
    const ops = new Browser(system.url);
    await ops.graphql(SIGN_UP, {
      input: { email: opsEmail, password: "correct horse battery", displayName: "Ops" },
    });
    for (const value of BAD_DATES) {
      const input = { name: "Bad Date", venue: "Hall", city: "Nowhere", startsAt: value };
      const result = await ops.graphql(CREATE, { input });
      expect(result.status, JSON.stringify(value)).toBeLessThan(500);
      expect(result.errors?.[0]?.extensions, JSON.stringify(value)).toEqual({
        code: "BAD_USER_INPUT",
        field: "startsAt",
      });
    }
    const created = await ops.graphql<{ createEvent: { startsAt: string } }>(CREATE, {
      input: { name: "Good Date", venue: "Hall", city: "Nowhere", startsAt: "2030-05-01T21:30:00+02:00" },
    });
    expect(created.data?.createEvent.startsAt).toBe("2030-05-01T19:30:00.000Z");
    const listed = await post(system, {
      query: '{ events(filter: { city: "Nowhere" }) { edges { node { name } } } }',
    });
    expect(listed.data).toEqual({ events: { edges: [{ node: { name: "Good Date" } }] } });
  });
});

describe("the WebSocket", () => {
  type WsError = { message: string; extensions?: { code?: string; field?: string } };

  /** The errors one subscription ends with, from its refusal or from its first result. */
  function errorsOf(
    browser: Browser | undefined,
    payload: { query: string; variables?: Record<string, unknown> },
  ) {
    const headers = browser?.cookieHeader() ?? {};
    class CookieSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers });
      }
    }
    const client = createClient({
      url: `${system.url.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: CookieSocket,
      retryAttempts: 0,
      lazy: true,
    });
    return new Promise<WsError[]>((resolve) => {
      client.subscribe(payload, {
        next: (result) => resolve((result.errors ?? []) as WsError[]),
        error: (error) => resolve(Array.isArray(error) ? (error as WsError[]) : [{ message: String(error) }]),
        complete: () => resolve([]),
      });
    }).finally(() => client.dispose());
  }

  it("gives validation, parse and variable errors the codes the HTTP endpoint gives", async () => {
    const [invalid] = await errorsOf(undefined, { query: "subscription { nope }" });
    expect(invalid?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    const [syntax] = await errorsOf(undefined, { query: "subscription {" });
    expect(syntax?.extensions?.code).toBe("GRAPHQL_PARSE_FAILED");
    const [variable] = await errorsOf(undefined, {
      query: "subscription ($id: ID!) { ticketChanged(eventId: $id) { id } }",
      variables: { id: { a: 1 } },
    });
    expect(variable?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "id" });
  });

  it("names since in the refusal of a cursor that is not one", async () => {
    const ops = new Browser(system.url);
    await ops.graphql(SIGN_UP, {
      input: { email: liveOpsEmail, password: "correct horse battery", displayName: "Live Ops" },
    });
    const [refused] = await errorsOf(ops, {
      query: "subscription ($since: String) { opsFeed(since: $since) { cursor } }",
      variables: { since: "garbage" },
    });
    expect(refused?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "since" });
  });
});

it("counts aliases of __typename against the alias limit", async () => {
  const aliases = Array.from({ length: 100 }, (_, i) => `t${i}: __typename`).join(" ");
  const result = await post(system, { query: `{ ${aliases} }` });
  expect(result.status).toBe(400);
  expect(result.errors?.[0]?.extensions).toMatchObject({
    code: "GRAPHQL_VALIDATION_FAILED",
    limit: "aliases",
  });
});

it("refuses a fragment fan-out as over the cost limit, with the limit", async () => {
  const fragments = ["fragment F0 on Query { __typename }"];
  for (let i = 1; i <= 15; i++) fragments.push(`fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }`);
  const result = await post(system, { query: `{ ...F15 } ${fragments.join(" ")}` });
  expect(result.status).toBe(400);
  expect(result.errors?.[0]?.extensions).toMatchObject({ code: "GRAPHQL_VALIDATION_FAILED", limit: "cost" });
  expect(result.errors?.[0]?.extensions).toHaveProperty("max");
});
