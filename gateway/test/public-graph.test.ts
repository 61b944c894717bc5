// The public graph for partner sites, through the gateway: operation limits, persisted queries,
// trusted documents, API keys, rate limits, CORS and who may introspect.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { eventually, uniqueName } from "@ticketing/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Browser,
  EVENT_PAGE,
  EVENTS,
  SIGN_IN,
  SIGN_UP,
  startSystem,
  type GraphQLResponse,
  type System,
} from "./support.js";

const password = "correct horse battery";
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const MANIFEST_PATH = fileURLToPath(new URL("./fixtures/persisted-documents.json", import.meta.url));
const manifest = JSON.parse(readFileSync(MANIFEST_PATH, "utf8")) as Record<string, string>;
const fromManifest = (operation: string) =>
  Object.values(manifest).find(
    (document) => document.includes(` ${operation}(`) || document.includes(` ${operation} {`),
  )!;

const CREATE_API_KEY = /* GraphQL */ `
  mutation CreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      key
      apiKey {
        id
        name
        prefix
        requestsPerMinute
        createdAt
        revokedAt
      }
    }
  }
`;
const API_KEYS = /* GraphQL */ `
  query ApiKeys {
    apiKeys {
      id
      name
      prefix
      requestsPerMinute
      revokedAt
    }
  }
`;
const REVOKE_API_KEY = /* GraphQL */ `
  mutation RevokeApiKey($id: ID!) {
    revokeApiKey(id: $id) {
      id
      revokedAt
    }
  }
`;
const INTROSPECTION = "query Introspect { __schema { queryType { name } } }";

type Body = GraphQLResponse<Record<string, unknown>> & {
  errors?: {
    message: string;
    extensions?: { code?: string; limit?: string; max?: number; retryAfter?: number };
  }[];
};

let addressCount = 0;
/** Each caller its own address (the gateway trusts X-Forwarded-For from loopback), so buckets stay apart. */
const newAddress = () => `198.51.100.${(addressCount = (addressCount % 250) + 1)}`;

async function post(
  system: System,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Body> {
  const response = await fetch(`${system.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": newAddress(), ...headers },
    body: JSON.stringify(body),
  });
  return await new Browser(system.url).read(response);
}

async function signedUpOps(system: System, opsEmail: string, headers: Record<string, string> = {}) {
  const ops = new Browser(system.url);
  const result = await ops.graphql(
    SIGN_UP,
    { input: { email: opsEmail, password, displayName: "Ops" } },
    { headers },
  );
  expect(result.errors).toBeUndefined();
  return ops;
}

async function createKey(ops: Browser, name: string, requestsPerMinute?: number, headers = {}) {
  const created = await ops.graphql<{
    createApiKey: { key: string; apiKey: { id: string; prefix: string } };
  }>(CREATE_API_KEY, { input: { name, ...(requestsPerMinute ? { requestsPerMinute } : {}) } }, { headers });
  expect(created.errors).toBeUndefined();
  return created.data!.createApiKey;
}

describe("the public graph, as configured for development", () => {
  let system: System;
  let ops: Browser;
  const opsEmail = `${uniqueName("ops")}@example.com`;
  const spaOrigin = "http://tickets.localhost:4000";

  beforeAll(async () => {
    system = await startSystem(
      { OPS_EMAILS: opsEmail },
      {
        PUBLIC_ORIGIN: spaOrigin,
        CORS_ORIGINS: "https://partner.example, https://fans.example",
        RATE_LIMIT_ANONYMOUS_PER_MINUTE: "5",
        RATE_LIMIT_KEYED_PER_MINUTE: "50",
      },
      { tickets: true },
    );
    ops = await signedUpOps(system, opsEmail, { "x-forwarded-for": newAddress() });
  });
  afterAll(() => system.stop());

  describe("operation limits", () => {
    const refusedWith = (result: Body, limit: string) => {
      expect(result.status).toBeGreaterThanOrEqual(400);
      expect(result.status).toBeLessThan(500);
      expect(result.data ?? undefined).toBeUndefined();
      expect(result.errors?.[0]?.extensions).toMatchObject({ limit });
      return result.errors![0]!;
    };

    it("accepts the contract's Events and Event queries at the largest page size", async () => {
      const events = await post(system, { query: EVENTS, variables: { first: 100 } });
      expect(events.errors).toBeUndefined();
      expect(events.data).toHaveProperty("events.edges");
      const event = await post(system, { query: EVENT_PAGE, variables: { id: "no-such-event", first: 100 } });
      expect(event.errors).toBeUndefined();
      expect(event.data).toEqual({ event: null });
    });

    it("refuses a document nested too deep", async () => {
      const deep = `{ events(first: 1) { edges { node { tickets(first: 1) { edges { node {
        event { tickets(first: 1) { edges { node { event { id } } } } } } } } } } } }`;
      const error = refusedWith(await post(system, { query: deep }), "depth");
      expect(error.extensions).toMatchObject({ code: "GRAPHQL_VALIDATION_FAILED", max: 10 });
    });

    it("refuses too many aliases", async () => {
      const aliases = Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(" ");
      const error = refusedWith(await post(system, { query: `{ ${aliases} }` }), "aliases");
      expect(error.extensions).toMatchObject({ code: "GRAPHQL_VALIDATION_FAILED", max: 15 });
    });

    it("refuses too many directives", async () => {
      const fields = Array.from({ length: 11 }, () => "id @skip(if: false)").join(" ");
      const error = refusedWith(await post(system, { query: `{ me { ${fields} } }` }), "directives");
      expect(error.extensions).toMatchObject({ code: "GRAPHQL_VALIDATION_FAILED", max: 10 });
    });

    it("refuses a document of too many tokens before parsing it all", async () => {
      const fields = Array.from({ length: 1_200 }, () => "id").join(" ");
      const error = refusedWith(await post(system, { query: `{ me { ${fields} } }` }), "tokens");
      expect(error.extensions).toMatchObject({ code: "GRAPHQL_PARSE_FAILED", max: 1000 });
    });

    it("refuses nested connections whose pages multiply past the cost limit, counting variables", async () => {
      const nested = `query Nested($first: Int) {
        events(first: $first) { edges { node { tickets(first: $first) { edges { node { id seller { id } } } } } } }
      }`;
      const error = refusedWith(await post(system, { query: nested, variables: { first: 100 } }), "cost");
      expect(error.extensions).toMatchObject({ code: "GRAPHQL_VALIDATION_FAILED", max: 5000 });
      expect(error.message).toMatch(/cost 30301/);
      // Small pages of the same document are fine.
      const small = await post(system, { query: nested, variables: { first: 5 } });
      expect(small.errors).toBeUndefined();
    });

    it("lets anyone introspect outside production", async () => {
      const result = await post(system, { query: INTROSPECTION });
      expect(result.data).toEqual({ __schema: { queryType: { name: "Query" } } });
    });
  });

  describe("automatic persisted queries", () => {
    it("answers a hash it does not know with PERSISTED_QUERY_NOT_FOUND, then serves it by hash", async () => {
      const query = `query ApqRoundTrip { events(first: 2, filter: { search: "${uniqueName("apq")}" }) { edges { node { id } } } }`;
      const persistedQuery = { version: 1, sha256Hash: sha256(query) };
      const miss = await post(system, { extensions: { persistedQuery } });
      expect(miss.errors?.[0]?.extensions?.code).toBe("PERSISTED_QUERY_NOT_FOUND");
      const register = await post(system, { query, extensions: { persistedQuery } });
      expect(register.errors).toBeUndefined();
      const hit = await post(system, { extensions: { persistedQuery } });
      expect(hit.errors).toBeUndefined();
      expect(hit.data).toEqual(register.data);
      // GET by hash, as a CDN would cache it (CSRF prevention wants a header no simple request has).
      const params = new URLSearchParams({ extensions: JSON.stringify({ persistedQuery }) });
      const get = await fetch(`${system.url}/graphql?${params.toString()}`, {
        headers: { "x-forwarded-for": newAddress(), "apollo-require-preflight": "true" },
      });
      expect(get.status).toBe(200);
      expect(await get.json()).toEqual({ data: register.data });
    });

    it("refuses a document whose hash is not its own", async () => {
      const result = await post(system, {
        query: "{ me { id } }",
        extensions: { persistedQuery: { version: 1, sha256Hash: sha256("{ me { email } }") } },
      });
      expect(result.status).toBe(400);
    });

    it("serves the SPA's manifest documents by hash without registration", async () => {
      const document = fromManifest("Events");
      const result = await post(system, {
        variables: { first: 1 },
        extensions: { persistedQuery: { version: 1, sha256Hash: sha256(document) } },
      });
      // Without a manifest in this system the hash is unknown: see the production suite below.
      expect(result.errors?.[0]?.extensions?.code).toBe("PERSISTED_QUERY_NOT_FOUND");
    });
  });

  describe("API keys", () => {
    it("are created by OPS and shown once, listed without the key, and identify the partner", async () => {
      const created = await createKey(ops, "Fan community", 40, { "x-forwarded-for": newAddress() });
      expect(created.key).toMatch(/^tkt_[0-9a-f]{16}_[\w-]{43}$/);
      expect(created.key.startsWith(`${created.apiKey.prefix}_`)).toBe(true);

      const listed = await ops.graphql<{ apiKeys: Record<string, unknown>[] }>(
        API_KEYS,
        {},
        {
          headers: { "x-forwarded-for": newAddress() },
        },
      );
      const entry = listed.data!.apiKeys.find((key) => key.id === created.apiKey.id);
      expect(entry).toMatchObject({ name: "Fan community", requestsPerMinute: 40, revokedAt: null });
      expect(JSON.stringify(listed.data)).not.toContain(created.key);

      const used = await post(
        system,
        { query: EVENTS, variables: { first: 1 } },
        { "x-api-key": created.key },
      );
      expect(used.errors).toBeUndefined();
      expect(used.headers.get("ratelimit-limit")).toBe("40");
    });

    it("are for OPS only", async () => {
      const fan = new Browser(system.url);
      const headers = { "x-forwarded-for": newAddress() };
      await fan.graphql(
        SIGN_UP,
        { input: { email: `${uniqueName("fan")}@example.com`, password, displayName: "Fan" } },
        { headers },
      );
      const refused = await fan.graphql(CREATE_API_KEY, { input: { name: "mine" } }, { headers });
      expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      const anonymous = await post(system, { query: API_KEYS });
      expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      const invalid = await ops.graphql(CREATE_API_KEY, { input: { name: " " } }, { headers });
      expect(invalid.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.name" });
    });

    it("refuses an unknown key, and a revoked one right after its revocation", async () => {
      const unknown = await post(
        system,
        { query: "{ me { id } }" },
        { "x-api-key": "tkt_0123456789abcdef_nope" },
      );
      expect(unknown.status).toBe(401);
      expect(unknown.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");

      const { key, apiKey } = await createKey(ops, "Price comparison", undefined, {
        "x-forwarded-for": newAddress(),
      });
      const before = await post(system, { query: "{ me { id } }" }, { "x-api-key": key });
      expect(before.errors).toBeUndefined();
      expect(before.headers.get("ratelimit-limit")).toBe("50");

      const revoked = await ops.graphql<{ revokeApiKey: { revokedAt: string | null } }>(
        REVOKE_API_KEY,
        { id: apiKey.id },
        { headers: { "x-forwarded-for": newAddress() } },
      );
      expect(revoked.data?.revokeApiKey.revokedAt).toEqual(expect.any(String));
      const after = await eventually(
        () => post(system, { query: "{ me { id } }" }, { "x-api-key": key }),
        (result) => result.status === 401,
        2_000,
      );
      expect(after.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    });
  });

  describe("rate limits", () => {
    it("limit an anonymous address, announce the limit, and refuse with RATE_LIMITED and Retry-After", async () => {
      const address = newAddress();
      const remaining: (string | null)[] = [];
      for (let i = 0; i < 5; i++) {
        const ok = await post(system, { query: "{ me { id } }" }, { "x-forwarded-for": address });
        expect(ok.status).toBe(200);
        expect(ok.headers.get("ratelimit-limit")).toBe("5");
        remaining.push(ok.headers.get("ratelimit-remaining"));
      }
      expect(remaining).toEqual(["4", "3", "2", "1", "0"]);
      const refused = await post(system, { query: "{ me { id } }" }, { "x-forwarded-for": address });
      expect(refused.status).toBe(429);
      expect(refused.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
      const retryAfter = Number(refused.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(12);
      expect(refused.errors?.[0]?.extensions?.retryAfter).toBe(retryAfter);
      // Another address has its own allowance.
      expect((await post(system, { query: "{ me { id } }" })).status).toBe(200);
    });

    it("limit a key by its own allowance, apart from its address", async () => {
      const { key } = await createKey(ops, "Event listings", 3, { "x-forwarded-for": newAddress() });
      const address = newAddress();
      for (let i = 0; i < 3; i++) {
        const ok = await post(
          system,
          { query: "{ me { id } }" },
          { "x-api-key": key, "x-forwarded-for": address },
        );
        expect(ok.status).toBe(200);
      }
      const refused = await post(system, { query: "{ me { id } }" }, { "x-api-key": key });
      expect(refused.status).toBe(429);
      expect(refused.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect((await post(system, { query: "{ me { id } }" }, { "x-forwarded-for": address })).status).toBe(
        200,
      );
    });

    it("keep sign-in's own stricter limit, with its Retry-After", async () => {
      const email = `${uniqueName("guess")}@example.com`;
      let last: Body | undefined;
      for (let i = 0; i < 6; i++) {
        last = await post(system, {
          query: SIGN_IN,
          variables: { input: { email, password: "wrong guess" } },
        });
      }
      expect(last?.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
      expect(Number(last?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    });
  });

  describe("CORS", () => {
    const preflight = (origin: string) =>
      fetch(`${system.url}/graphql`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type, x-api-key",
        },
      });

    it("lets allowed origins call the graph without credentials, and the SPA with them", async () => {
      const partner = await preflight("https://partner.example");
      expect(partner.status).toBe(204);
      expect(partner.headers.get("access-control-allow-origin")).toBe("https://partner.example");
      expect(partner.headers.get("access-control-allow-headers")).toContain("x-api-key");
      expect(partner.headers.get("access-control-allow-credentials")).toBeNull();

      const spa = await preflight(spaOrigin);
      expect(spa.status).toBe(204);
      expect(spa.headers.get("access-control-allow-origin")).toBe(spaOrigin);
      expect(spa.headers.get("access-control-allow-credentials")).toBe("true");

      const call = await post(system, { query: "{ me { id } }" }, { origin: "https://fans.example" });
      expect(call.headers.get("access-control-allow-origin")).toBe("https://fans.example");
      expect(call.headers.get("access-control-expose-headers")).toContain("retry-after");
    });

    it("refuses other origins", async () => {
      const refused = await preflight("https://scraper.example");
      expect(refused.status).toBe(403);
      expect(refused.headers.get("access-control-allow-origin")).toBeNull();
      const call = await post(system, { query: "{ me { id } }" }, { origin: "https://scraper.example" });
      expect(call.headers.get("access-control-allow-origin")).toBeNull();
    });
  });
});

describe("the public graph in production, with trusted documents", () => {
  let system: System;
  let partnerKey: string;
  const opsEmail = `${uniqueName("ops")}@example.com`;
  const spaOrigin = "https://tickets.example";
  const fromSpa = () => ({ origin: spaOrigin, "x-forwarded-for": newAddress() });
  const UNKNOWN = "query NotTheApps { events(first: 1) { edges { node { id name } } } }";

  beforeAll(async () => {
    system = await startSystem(
      { OPS_EMAILS: opsEmail },
      {
        NODE_ENV: "production",
        PUBLIC_ORIGIN: spaOrigin,
        TRUSTED_DOCUMENTS: "on",
        PERSISTED_DOCUMENTS_PATH: MANIFEST_PATH,
        RATE_LIMIT_ANONYMOUS_PER_MINUTE: "1000",
      },
      { tickets: true },
    );
    // The SPA's own documents, as its build lists them.
    const ops = new Browser(system.url);
    const signUp = await ops.graphql(
      fromManifest("SignUp"),
      { input: { email: opsEmail, password, displayName: "Ops" } },
      { headers: fromSpa() },
    );
    expect(signUp.errors).toBeUndefined();
    const created = await ops.graphql<{ createApiKey: { key: string } }>(
      fromManifest("CreateApiKey"),
      { input: { name: "Partner" } },
      { headers: fromSpa() },
    );
    expect(created.errors).toBeUndefined();
    partnerKey = created.data!.createApiKey.key;
  });
  afterAll(() => system.stop());

  it("runs the manifest's documents from the SPA, by hash alone", async () => {
    const document = fromManifest("Events");
    const result = await post(
      system,
      {
        variables: { first: 1 },
        extensions: { persistedQuery: { version: 1, sha256Hash: sha256(document) } },
      },
      fromSpa(),
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toHaveProperty("events.edges");
  });

  it("refuses an unknown document from the SPA's origin, even as a persisted query", async () => {
    const refused = await post(system, { query: UNKNOWN }, fromSpa());
    expect(refused.status).toBe(403);
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const registered = await post(
      system,
      { query: UNKNOWN, extensions: { persistedQuery: { version: 1, sha256Hash: sha256(UNKNOWN) } } },
      fromSpa(),
    );
    expect(registered.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const byHash = await post(
      system,
      { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(UNKNOWN) } } },
      fromSpa(),
    );
    expect(byHash.errors?.[0]?.extensions?.code).toBe("PERSISTED_QUERY_NOT_FOUND");
  });

  it("lets partners with a key, and clients off the SPA's origin, send any valid document", async () => {
    const keyed = await post(system, { query: UNKNOWN }, { ...fromSpa(), "x-api-key": partnerKey });
    expect(keyed.errors).toBeUndefined();
    const elsewhere = await post(system, { query: UNKNOWN });
    expect(elsewhere.errors).toBeUndefined();
  });

  it("lets only partners with a key introspect", async () => {
    const anonymous = await post(system, { query: INTROSPECTION });
    expect(anonymous.status).toBe(400);
    expect(anonymous.errors?.[0]?.extensions).toMatchObject({
      code: "GRAPHQL_VALIDATION_FAILED",
      limit: "introspection",
    });
    const keyed = await post(system, { query: INTROSPECTION }, { "x-api-key": partnerKey });
    expect(keyed.data).toEqual({ __schema: { queryType: { name: "Query" } } });
  });

  it("hides schema details from errors", async () => {
    const result = await post(system, { query: "{ evnts { edges { node { id } } } }" });
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });
});
