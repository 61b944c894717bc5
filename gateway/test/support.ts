// A running system for the gateway's tests: the auth subgraph and the gateway, on free ports,
// against the harness's private FerretDB, NATS and Redis.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ensureStreams } from "@ticketing/shared-events";
import { createIdentity, createLogger } from "@ticketing/shared-runtime";
import { infra, natsUrlFor } from "@ticketing/testkit";
import { createGateway, type Gateway } from "../src/server.js";
import { loadEnv } from "../src/env.js";
import { createApiKeys } from "../src/api-keys.js";
import { startAuth, type RunningAuth } from "./auth.js";
import { ticketsService, loadEnv as loadTicketsEnv } from "@ticketing/tickets";
import { ordersService, loadEnv as loadOrdersEnv } from "@ticketing/orders";
import {
  expirationService,
  loadEnv as loadExpirationEnv,
  type ExpirationService,
} from "@ticketing/expiration";
import { paymentsService, loadEnv as loadPaymentsEnv } from "@ticketing/payments";
import { passesService, loadEnv as loadPassesEnv } from "@ticketing/passes";
import { uniqueName } from "@ticketing/testkit";

/** A built SPA in miniature: the gateway serves whatever web/dist holds. */
export async function spaFixture(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "gateway-web-"));
  await writeFile(join(dir, "index.html"), "<!doctype html><title>Ticketing</title>");
  await writeFile(join(dir, "app.js"), "console.log('app')");
  return dir;
}

export interface System {
  gateway: Gateway;
  /** Stops the gateway and starts a new one on the same port (the subgraphs stay up). */
  restartGateway(): Promise<Gateway>;
  url: string;
  auth: RunningAuth;
  nc: NatsConnection;
  expiration?: RunningExpiration;
  stop(): Promise<void>;
}

/** The tickets subgraph, for tests that cross subgraphs (a ticket's seller comes from auth). */
export async function startTickets(jwksUrl: string) {
  const env = loadTicketsEnv({
    MONGO_URL: infra().mongoUrl,
    NATS_URL: natsUrlFor("tickets"),
    AUTH_JWKS_URL: jwksUrl,
    DEMO_CATALOG: "off",
    LOG_LEVEL: "silent",
  });
  const service = await ticketsService.start(env, {
    database: uniqueName("tickets"),
    ordersConsumer: uniqueName("tickets-orders"),
    passesConsumer: uniqueName("tickets-passes"),
    logger: createLogger("tickets", "silent"),
  });
  const { port } = await service.listen(0, "127.0.0.1");
  return { url: `http://127.0.0.1:${port}/graphql`, stop: () => service.close() };
}

/** The orders subgraph, for the buying tests; `env` sets ORDER_HOLD_SECONDS and the like. */
async function startOrders(jwksUrl: string, env: Record<string, string>) {
  const service = await ordersService.start(
    loadOrdersEnv({
      MONGO_URL: infra().mongoUrl,
      NATS_URL: natsUrlFor("orders"),
      AUTH_JWKS_URL: jwksUrl,
      LOG_LEVEL: "silent",
      ...env,
    }),
    {
      database: uniqueName("orders"),
      consumers: {
        tickets: uniqueName("orders-tickets"),
        expiration: uniqueName("orders-expiration"),
        payments: uniqueName("orders-payments"),
      },
      logger: createLogger("orders", "silent"),
    },
  );
  const { port } = await service.listen(0, "127.0.0.1");
  return { url: `http://127.0.0.1:${port}/graphql`, stop: () => service.close() };
}

/** The payments subgraph, in sandbox mode against the harness's stripe-mock. */
async function startPayments(jwksUrl: string, env: Record<string, string>) {
  const service = await paymentsService.start(
    loadPaymentsEnv({
      MONGO_URL: infra().mongoUrl,
      NATS_URL: natsUrlFor("payments"),
      AUTH_JWKS_URL: jwksUrl,
      ...(infra().stripeMockUrl ? { STRIPE_MOCK_URL: infra().stripeMockUrl } : {}),
      LOG_LEVEL: "silent",
      ...env,
    }),
    {
      database: uniqueName("payments"),
      consumers: { orders: uniqueName("payments-orders") },
      logger: createLogger("payments", "silent"),
    },
  );
  const { port } = await service.listen(0, "127.0.0.1");
  const base = `http://127.0.0.1:${port}`;
  return { url: `${base}/graphql`, webhookUrl: `${base}/webhooks/stripe`, stop: () => service.close() };
}

/** The passes subgraph; `env` sets PASS_CODE_STEP_SECONDS and the like. */
async function startPasses(jwksUrl: string, env: Record<string, string>) {
  const service = await passesService.start(
    loadPassesEnv({
      MONGO_URL: infra().mongoUrl,
      NATS_URL: natsUrlFor("passes"),
      AUTH_JWKS_URL: jwksUrl,
      LOG_LEVEL: "silent",
      ...env,
    }),
    {
      database: uniqueName("passes"),
      consumers: {
        orders: uniqueName("passes-orders"),
        tickets: uniqueName("passes-tickets"),
        users: uniqueName("passes-users"),
      },
      logger: createLogger("passes", "silent"),
    },
  );
  const { port } = await service.listen(0, "127.0.0.1");
  return { url: `http://127.0.0.1:${port}/graphql`, stop: () => service.close() };
}

/** The expiration worker, with a queue of its own; `restart` stops it and starts it again. */
export interface RunningExpiration {
  stop(): Promise<void>;
  start(): Promise<void>;
}

function expirationWorker(): RunningExpiration {
  const names = { queue: uniqueName("order-expiration"), consumer: uniqueName("expiration-orders") };
  let service: ExpirationService | undefined;
  return {
    async start() {
      service = await expirationService.start(
        loadExpirationEnv({
          NATS_URL: natsUrlFor("expiration"),
          REDIS_URL: infra().redisUrl,
          LOG_LEVEL: "silent",
        }),
        {
          ordersConsumer: names.consumer,
          queue: { name: names.queue },
          logger: createLogger("expiration", "silent"),
        },
      );
    },
    async stop() {
      await service?.close();
      service = undefined;
    },
  };
}

export async function startSystem(
  extra: Record<string, string> = {},
  gatewayExtra: Record<string, string> = {},
  {
    tickets = false,
    orders,
    payments,
    passes,
    expiration = false,
    route = (_name, url) => Promise.resolve(url),
  }: {
    tickets?: boolean;
    /** The orders subgraph's settings; absent: no orders subgraph. */
    orders?: Record<string, string>;
    /** The payments subgraph's settings; absent: no payments subgraph. */
    payments?: Record<string, string>;
    /** The passes subgraph's settings; absent: no passes subgraph. */
    passes?: Record<string, string>;
    expiration?: boolean;
    /** The URL the gateway is given for a subgraph (a proxy in front of it, say). */
    route?: (name: "tickets" | "orders" | "payments" | "passes", url: string) => Promise<string>;
  } = {},
): Promise<System> {
  const nc = await connect({ servers: infra().natsUrl });
  await ensureStreams(nc);
  const auth = await startAuth(extra);
  const jwksUrl = `${auth.baseUrl}/.well-known/jwks.json`;
  const ticketsSubgraph = tickets ? await startTickets(jwksUrl) : undefined;
  const ordersSubgraph = orders ? await startOrders(jwksUrl, orders) : undefined;
  const paymentsSubgraph = payments ? await startPayments(jwksUrl, payments) : undefined;
  const passesSubgraph = passes ? await startPasses(jwksUrl, passes) : undefined;
  const worker = expiration ? expirationWorker() : undefined;
  await worker?.start();
  const logger = createLogger("gateway", "silent");
  const env = loadEnv({
    NATS_URL: natsUrlFor("gateway"),
    AUTH_URL: auth.baseUrl,
    SUBGRAPH_AUTH_URL: `${auth.baseUrl}/graphql`,
    WEB_ROOT: await spaFixture(),
    PORT: "0",
    REDIS_URL: infra().redisUrl,
    ...(ticketsSubgraph ? { SUBGRAPH_TICKETS_URL: await route("tickets", ticketsSubgraph.url) } : {}),
    ...(ordersSubgraph ? { SUBGRAPH_ORDERS_URL: await route("orders", ordersSubgraph.url) } : {}),
    ...(paymentsSubgraph
      ? {
          SUBGRAPH_PAYMENTS_URL: await route("payments", paymentsSubgraph.url),
          PAYMENTS_WEBHOOK_URL: paymentsSubgraph.webhookUrl,
        }
      : {}),
    ...(passesSubgraph ? { SUBGRAPH_PASSES_URL: await route("passes", passesSubgraph.url) } : {}),
    ...gatewayExtra,
  });
  const identity = await createIdentity(nc, env.jwksUrl, logger);
  const apiKeys = await createApiKeys({ authUrl: env.authUrl, nc, logger });
  const gateway: Gateway = await createGateway({
    env,
    logger,
    verifier: identity.verifier,
    apiKeys,
    nats: nc,
  });
  const { port } = await gateway.listen(0, "127.0.0.1");
  let current = gateway;
  return {
    gateway,
    restartGateway: async () => {
      await current.close();
      current = await createGateway({ env, logger, verifier: identity.verifier, apiKeys, nats: nc });
      await current.listen(port, "127.0.0.1");
      return current;
    },
    url: `http://127.0.0.1:${port}`,
    auth,
    nc,
    ...(worker ? { expiration: worker } : {}),
    async stop() {
      await current.close();
      await apiKeys.stop();
      await identity.stop();
      await worker?.stop();
      await passesSubgraph?.stop();
      await paymentsSubgraph?.stop();
      await ordersSubgraph?.stop();
      await ticketsSubgraph?.stop();
      await auth.stop();
      await nc.close();
    },
  };
}

export interface GraphQLResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; field?: string; retryAfter?: number } }[];
  setCookies: string[];
  headers: Headers;
}

/** A browser's view of the graph: one cookie jar, JSON requests to /graphql. */
export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(private readonly origin: string) {}

  get sessionCookie(): string | undefined {
    return this.cookies.get("session");
  }

  async graphql<T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown> = {},
    init: { headers?: Record<string, string> } = {},
  ): Promise<GraphQLResponse<T>> {
    const response = await fetch(`${this.origin}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...this.cookieHeader(), ...init.headers },
      body: JSON.stringify({ query, variables }),
    });
    return this.read<T>(response);
  }

  cookieHeader(): Record<string, string> {
    if (this.cookies.size === 0) return {};
    return { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ") };
  }

  async read<T>(response: Response): Promise<GraphQLResponse<T>> {
    const setCookies = response.headers.getSetCookie();
    for (const cookie of setCookies) {
      const [pair] = cookie.split(";");
      const [name, ...value] = (pair ?? "").split("=");
      if (!name) continue;
      if (/max-age=0/i.test(cookie) || value.join("=") === "") this.cookies.delete(name);
      else this.cookies.set(name, value.join("="));
    }
    const text = await response.text();
    let body: { data?: T | null; errors?: GraphQLResponse<T>["errors"] } = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // not JSON: the status says what happened
    }
    return { status: response.status, ...body, setCookies, headers: response.headers };
  }
}

export const SIGN_UP = /* GraphQL */ `
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) {
      id
      email
      displayName
      roles
    }
  }
`;
export const SIGN_IN = /* GraphQL */ `
  mutation SignIn($input: SignInInput!) {
    signIn(input: $input) {
      id
      email
      displayName
      roles
    }
  }
`;
export const SIGN_OUT = /* GraphQL */ `
  mutation SignOut {
    signOut
  }
`;
export const ME = /* GraphQL */ `
  query Me {
    me {
      id
      email
      displayName
      roles
    }
  }
`;

/** The contract's catalog page: events with availability and the lowest price. */
export const EVENTS = /* GraphQL */ `
  query Events($first: Int, $after: String, $filter: EventFilter) {
    events(first: $first, after: $after, filter: $filter) {
      edges {
        cursor
        node {
          id
          name
          venue
          city
          startsAt
          category
          availableTickets
          lowestPrice {
            amount
            currency
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

/** The contract's event page: an event with its tickets and their sellers. */
export const EVENT_PAGE = /* GraphQL */ `
  query Event($id: ID!, $first: Int, $after: String) {
    event(id: $id) {
      id
      name
      venue
      city
      startsAt
      category
      availableTickets
      tickets(first: $first, after: $after) {
        edges {
          cursor
          node {
            id
            title
            section
            status
            version
            price {
              amount
              currency
            }
            seller {
              id
              displayName
            }
          }
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`;

/** The data of a response that must have succeeded; its errors otherwise, thrown. */
export function dataOf<T>(response: GraphQLResponse<T>): T {
  if (response.errors?.length || !response.data) throw new Error(JSON.stringify(response.errors));
  return response.data;
}

/** A browser signed up as a new account (its session cookie kept). */
export async function signedUp(system: System, email: string, displayName = "Fan"): Promise<Browser> {
  const browser = new Browser(system.url);
  dataOf(
    await browser.graphql(SIGN_UP, { input: { email, password: "correct horse battery", displayName } }),
  );
  return browser;
}
