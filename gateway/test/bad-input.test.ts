// Bad input on every argument of every operation the graph offers, generated from the schema the
// gateway serves (so a new query, mutation or argument is covered without touching this file):
// whatever a client sends, the answer is never a 5xx nor an internal message, every error carries
// a code of the contract, and every BAD_USER_INPUT names its field. The same for the
// subscriptions on the WebSocket, and every unsigned or hostile webhook is refused with 400.
import { randomUUID } from "node:crypto";
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  type IntrospectionQuery,
  type OperationTypeNode,
} from "graphql";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { liveSchema } from "../src/live/schema.js";
import { Browser, SIGN_UP, startSystem, type GraphQLResponse, type System } from "./support.js";

/** The codes of the contract, and Apollo Server's standard codes for malformed or invalid requests. */
const CONTRACT_CODES = new Set([
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "BAD_USER_INPUT",
  "CONFLICT",
  "RATE_LIMITED",
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_REQUEST",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
]);
/** What an unmasked internal failure looks like. */
const INTERNAL =
  /internal server error|mongo|ferret|econn|stack|cannot read prop|undefined is not|\d{3}: [A-Z]/i;
const MEGABYTE = "x".repeat(1_000_000);

let system: System;
let schema: GraphQLSchema;
let cookie: string;

beforeAll(async () => {
  const opsEmail = `ops-${randomUUID()}@example.com`;
  system = await startSystem(
    { OPS_EMAILS: opsEmail },
    {},
    { tickets: true, orders: { ORDER_HOLD_SECONDS: "900" }, payments: {}, passes: {} },
  );
  const ops = new Browser(system.url);
  await ops.graphql(SIGN_UP, {
    input: { email: opsEmail, password: "correct horse battery", displayName: "Ops" },
  });
  cookie = ops.cookieHeader().cookie!;
  const introspection = await ops.graphql<IntrospectionQuery>(getIntrospectionQuery());
  schema = buildClientSchema(introspection.data!);
}, 60_000);

afterAll(() => system.stop());

/** A value the type accepts, for the arguments a case is not about. */
function plausible(type: GraphQLInputType): unknown {
  const nullable = getNullableType(type);
  if (isListType(nullable)) return [plausible(nullable.ofType)];
  if (isEnumType(nullable)) return nullable.getValues()[0]?.value;
  if (isInputObjectType(nullable)) {
    return Object.fromEntries(
      Object.values(nullable.getFields())
        .filter((field) => isNonNullType(field.type))
        .map((field) => [field.name, plausible(field.type)]),
    );
  }
  switch (nullable.name) {
    case "Int":
      return 1;
    case "Float":
      return 1.5;
    case "Boolean":
      return true;
    case "ID":
      return randomUUID();
    case "DateTime":
      return "2031-01-01T20:00:00Z";
    case "String":
      return "plausible";
    default:
      return {};
  }
}

/** The hostile values for an input of this type: wrong types, null, blanks, a megabyte, objects. */
function hostile(type: GraphQLInputType): unknown[] {
  const named = getNamedType(type);
  const common = [null, {}, { $gt: "" }, [], ""];
  if (isScalarType(named) && ["Int", "Float"].includes(named.name)) {
    return [...common, "1", 1.5, -1, 2 ** 31, Number.MAX_SAFE_INTEGER, true];
  }
  if (isScalarType(named) && named.name === "Boolean") return [...common, "true", 1];
  return [...common, "   ", MEGABYTE, 42, true, "\u202E\u200B", "x".repeat(10_000), "2030-02-30T00:00:00Z"];
}

interface Case {
  operation: "query" | "mutation" | "subscription";
  field: GraphQLField<unknown, unknown>;
  /** The variables, one per argument, with one value (or one input field's value) made hostile. */
  variables: Record<string, unknown>;
  label: string;
}

/** Every input path under an argument: the argument itself, and each field of an input object. */
function* paths(type: GraphQLInputType, prefix: string[] = []): Generator<[string[], GraphQLInputType]> {
  yield [prefix, type];
  const nullable = getNullableType(type);
  if (isInputObjectType(nullable) && prefix.length < 3) {
    for (const field of Object.values(nullable.getFields()))
      yield* paths(field.type, [...prefix, field.name]);
  }
}

function withValue(base: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string, ...string[]];
  const object = typeof base === "object" && base !== null ? (base as Record<string, unknown>) : {};
  return { ...object, [head]: withValue(object[head], rest, value) };
}

function cases(operations: Case["operation"][], target = schema): Case[] {
  const all: Case[] = [];
  for (const operation of operations) {
    const root = target.getRootType(operation as OperationTypeNode);
    for (const field of Object.values(root?.getFields() ?? {})) {
      // Arguments are what this suite is about; signing out would end the session it runs with.
      if (field.args.length === 0) continue;
      const valid = Object.fromEntries(field.args.map((arg) => [arg.name, plausible(arg.type)]));
      for (const arg of field.args) {
        for (const [path, type] of paths(arg.type)) {
          for (const value of hostile(type)) {
            const label = `${field.name}(${[arg.name, ...path].join(".")}: ${JSON.stringify(value)?.slice(0, 40)})`;
            all.push({
              operation,
              field,
              variables: { ...valid, [arg.name]: withValue(valid[arg.name], path, value) },
              label,
            });
          }
        }
      }
    }
  }
  return all;
}

function documentOf({ operation, field }: Case): string {
  const variables = field.args.map((arg: GraphQLArgument) => `$${arg.name}: ${String(arg.type)}`).join(", ");
  const args = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(", ");
  const selection =
    isScalarType(getNamedType(field.type)) || isEnumType(getNamedType(field.type)) ? "" : " { __typename }";
  return `${operation} Bad(${variables}) { ${field.name}(${args})${selection} }`;
}

async function send(c: Case, requestId: string): Promise<GraphQLResponse> {
  const response = await fetch(`${system.url}/graphql`, {
    method: "POST",
    // The request id reaches the subgraphs and the metadata of every event the request causes.
    headers: { "content-type": "application/json", cookie, "x-request-id": requestId },
    body: JSON.stringify({ query: documentOf(c), variables: c.variables }),
  });
  return new Browser(system.url).read(response);
}

it("answers every hostile argument of every operation with a coded 4xx or a coded error", async () => {
  const all = cases(["query", "mutation"]);
  expect(all.length).toBeGreaterThan(100);
  const failures: string[] = [];
  // Which requests caused events: a refused one must have written nothing.
  const causedEvents = new Set<string>();
  const events = system.nc.subscribe("ticketing.>", {
    callback: (_error, message) => {
      const requestId = message.json<{ meta?: { requestId?: string } }>().meta?.requestId;
      if (requestId) causedEvents.add(requestId);
    },
  });
  const refused = new Map<string, string>();
  // A few at a time: fast, without the test measuring the rate limits instead.
  for (let start = 0; start < all.length; start += 8) {
    await Promise.all(
      all.slice(start, start + 8).map(async (c, index) => {
        const requestId = `bad-input-${start + index}-${randomUUID()}`;
        const result = await send(c, requestId);
        if (result.errors?.length && !Object.values(result.data ?? {}).some((value) => value !== null)) {
          refused.set(requestId, c.label);
        }
        const problems: string[] = [];
        if (result.status >= 500) problems.push(`HTTP ${result.status}`);
        for (const error of result.errors ?? []) {
          const code = error.extensions?.code;
          if (!code || !CONTRACT_CODES.has(code))
            problems.push(`code ${code}: ${error.message.slice(0, 120)}`);
          if (INTERNAL.test(error.message)) problems.push(`internal message: ${error.message.slice(0, 120)}`);
          if (code === "BAD_USER_INPUT" && !error.extensions?.field) {
            problems.push(`BAD_USER_INPUT without field: ${error.message.slice(0, 120)}`);
          }
        }
        if (problems.length > 0) failures.push(`${c.label} → ${problems.join("; ")}`);
      }),
    );
  }
  await system.nc.flush();
  events.unsubscribe();
  for (const [requestId, label] of refused) {
    if (causedEvents.has(requestId)) failures.push(`${label} → refused, but wrote an event`);
  }
  expect(refused.size).toBeGreaterThan(100);
  // The inputs that were accepted (a blank optional category, say) did write: the check can see.
  expect(causedEvents.size).toBeGreaterThan(0);
  expect(failures).toEqual([]);
}, 60_000);

type WsError = { message: string; extensions?: { code?: string; field?: string } };

/** What a subscription answers within a moment: its refusal, its first result's errors, or nothing. */
function subscribeOnce(query: string, variables: Record<string, unknown>): Promise<WsError[]> {
  class CookieSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { cookie } });
    }
  }
  const client = createClient({
    url: `${system.url.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: CookieSocket,
    retryAttempts: 0,
    lazy: true,
  });
  return new Promise<WsError[]>((resolve) => {
    const timer = setTimeout(() => resolve([]), 500);
    const done = (errors: WsError[]) => {
      clearTimeout(timer);
      resolve(errors);
    };
    client.subscribe(
      { query, variables },
      {
        next: (result) => done((result.errors ?? []) as WsError[]),
        error: (error) =>
          done(
            Array.isArray(error) ? (error as WsError[]) : [{ message: `closed: ${JSON.stringify(error)}` }],
          ),
        complete: () => done([]),
      },
    );
  }).finally(() => client.dispose());
}

it("answers every hostile argument of every subscription on the WebSocket with coded errors", async () => {
  const all = cases(["subscription"], liveSchema(schema));
  expect(all.length).toBeGreaterThan(10);
  const failures: string[] = [];
  for (let start = 0; start < all.length; start += 4) {
    await Promise.all(
      all.slice(start, start + 4).map(async (c) => {
        const errors = await subscribeOnce(documentOf(c), c.variables);
        for (const error of errors) {
          const code = error.extensions?.code;
          if (!code || !CONTRACT_CODES.has(code))
            failures.push(`${c.label} → code ${code}: ${error.message.slice(0, 120)}`);
          if (INTERNAL.test(error.message))
            failures.push(`${c.label} → internal message: ${error.message.slice(0, 120)}`);
          if (code === "BAD_USER_INPUT" && !error.extensions?.field) {
            failures.push(`${c.label} → BAD_USER_INPUT without field: ${error.message.slice(0, 120)}`);
          }
        }
      }),
    );
  }
  expect(failures).toEqual([]);
}, 60_000);

it("refuses every unsigned or hostile webhook with 400, never a 5xx", async () => {
  const bodies: (string | Buffer)[] = [
    "",
    "garbage",
    "[]",
    "null",
    '{"id":"evt_x","type":"payment_intent.succeeded","data":{"object":{"id":"pi_x","metadata":{"orderId":"x"}}}}',
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("{}")]),
    Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
    `{"a":"${"x".repeat(500_000)}"}`,
    "[".repeat(10_000),
  ];
  const signatures: (string | undefined)[] = [
    undefined,
    "",
    "t=1,v1=abc",
    `t=${Math.floor(Date.now() / 1000)},v1=${"0".repeat(64)}`,
    "v1=".repeat(1_000),
    "t=-1,v0=x,v1=",
  ];
  const statuses = new Set<number>();
  for (const body of bodies) {
    for (const signature of signatures) {
      const response = await fetch(`${system.url}/webhooks/stripe`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(signature !== undefined ? { "stripe-signature": signature } : {}),
        },
        body,
      });
      await response.arrayBuffer();
      statuses.add(response.status);
    }
  }
  expect([...statuses]).toEqual([400]);
}, 60_000);
