import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Envelope, Payload } from "@ticketing/shared-events";
import { TestStream } from "@ticketing/shared-events/testing";
import { eventually, FakeAuth, infra, natsUrlFor, uniqueName } from "@ticketing/testkit";
import Stripe from "stripe";
import { paymentsService, loadEnv, SANDBOX_WEBHOOK_SECRET, type PaymentsService } from "../src/service.js";

export { FakeAuth, SANDBOX_WEBHOOK_SECRET };

export interface GraphQLResult<TData = Record<string, unknown>> {
  status: number;
  data?: TData | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
}

/** One request to Stripe's API, as it left the service. */
export interface StripeRequest {
  method: string;
  path: string;
  form: URLSearchParams;
  idempotencyKey: string | undefined;
}

/**
 * stripe-mock behind a recorder: every request the service sends to "Stripe" is kept (method,
 * path, form body, Idempotency-Key), then forwarded to the harness's stripe-mock.
 */
export class StripeRecorder {
  readonly requests: StripeRequest[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<StripeRecorder> {
    const target = infra().stripeMockUrl;
    if (!target) throw new Error("the harness started no stripe-mock");
    const recorder: { current?: StripeRecorder } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        recorder.current?.requests.push({
          method: req.method ?? "",
          path: (req.url ?? "").split("?")[0] ?? "",
          form: new URLSearchParams(body.toString("utf8")),
          idempotencyKey: req.headers["idempotency-key"] as string | undefined,
        });
        const headers = Object.fromEntries(
          Object.entries(req.headers).filter(
            (entry): entry is [string, string] => typeof entry[1] === "string" && entry[0] !== "host",
          ),
        );
        fetch(new URL(req.url ?? "/", target), {
          method: req.method,
          headers,
          body: req.method === "GET" || req.method === "DELETE" ? undefined : body,
        })
          .then(async (answer) => {
            res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "" });
            res.end(Buffer.from(await answer.arrayBuffer()));
          })
          .catch(() => {
            res.writeHead(502);
            res.end();
          });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    recorder.current = new StripeRecorder(server, `http://127.0.0.1:${port}`);
    return recorder.current;
  }

  /** The requests to one path (e.g. `/v1/refunds`). */
  to(path: string): StripeRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export interface RunningPayments {
  service: PaymentsService;
  baseUrl: string;
  graphql<TData = Record<string, unknown>>(
    query: string,
    options?: { variables?: Record<string, unknown>; token?: string },
  ): Promise<GraphQLResult<TData>>;
  /** Posts a webhook body with a signature header (or none). */
  webhook(payload: string, signature?: string): Promise<Response>;
  close(): Promise<void>;
}

/** The payments service on a free port, with a database and a consumer of its own. */
export async function startPayments(
  auth: FakeAuth,
  stripeUrl: string,
  overrides: Record<string, string> = {},
): Promise<RunningPayments> {
  const { mongoUrl } = infra();
  const env = loadEnv({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    MONGO_URL: mongoUrl,
    NATS_URL: natsUrlFor("payments"),
    AUTH_JWKS_URL: auth.jwksUrl,
    STRIPE_MOCK_URL: stripeUrl,
    ...overrides,
  });
  const service = await paymentsService.start(env, {
    database: uniqueName("payments"),
    consumers: { orders: uniqueName("payments_orders") },
  });
  const { url, port } = await service.listen(0, "127.0.0.1");
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    service,
    baseUrl,
    async graphql(query, { variables, token } = {}) {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as Omit<GraphQLResult, "status">;
      return { status: response.status, ...body } as GraphQLResult<never>;
    },
    webhook(payload, signature) {
      return fetch(`${baseUrl}/webhooks/stripe`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(signature ? { "stripe-signature": signature } : {}),
        },
        body: payload,
      });
    },
    close: () => service.close(),
  };
}

export const openStream = () => TestStream.open(infra().natsUrl);

/** Fails with the errors when a response has any; returns its data. */
export function dataOf<T>(result: GraphQLResult<T>): T {
  if (result.errors?.length || !result.data)
    throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data;
}

export const codeOf = (result: GraphQLResult<unknown>) => result.errors?.[0]?.extensions?.code;

/** Signs like Stripe does, with the stripe package's own test helper. */
const signer = new Stripe("sk_test_123");
export const sign = (payload: string, secret = SANDBOX_WEBHOOK_SECRET) =>
  signer.webhooks.generateTestHeaderString({ payload, secret });

/** A Stripe event about a PaymentIntent, as Stripe would post it. */
export function intentEvent(
  type: "payment_intent.succeeded" | "payment_intent.payment_failed",
  intent: { id: string; amount: number; currency: string; orderId: string },
  eventId = `evt_${randomUUID().replaceAll("-", "")}`,
): string {
  return JSON.stringify({
    id: eventId,
    object: "event",
    type,
    api_version: "2025-01-27.acacia",
    created: Math.floor(Date.now() / 1_000),
    livemode: false,
    data: {
      object: {
        id: intent.id,
        object: "payment_intent",
        amount: intent.amount,
        amount_received: type === "payment_intent.succeeded" ? intent.amount : 0,
        currency: intent.currency,
        metadata: { orderId: intent.orderId },
        status: type === "payment_intent.succeeded" ? "succeeded" : "requires_payment_method",
        ...(type === "payment_intent.payment_failed"
          ? { last_payment_error: { code: "card_declined", message: "Your card was declined." } }
          : {}),
      },
    },
  });
}

export interface PaymentNode {
  id: string;
  status: string;
  amount: { amount: number; currency: string };
  paymentIntentId: string;
  order: { id: string };
}

export interface StartNode {
  paymentIntentId: string;
  clientSecret: string;
  amount: { amount: number; currency: string };
  payment: { id: string; status: string };
}

export const START_PAYMENT = `mutation StartPayment($orderId: ID!) {
  startPayment(orderId: $orderId) { paymentIntentId clientSecret amount { amount currency } payment { id status } }
}`;
export const CONFIRM_SANDBOX = `mutation ConfirmSandboxPayment($orderId: ID!) {
  confirmSandboxPayment(orderId: $orderId) { id status }
}`;
export const PAYMENT = `query Payment($orderId: ID!) {
  payment(orderId: $orderId) { id status amount { amount currency } paymentIntentId order { id } }
}`;
export const ORDER_PAYMENT = `query OrderPayment($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Order { id payment { id status } } }
}`;

export type OrderCreated = Payload<"ticketing.order.created">;

/** Orders played by the test: publishes `order.created` (startPayment waits for its replica). */
export async function createOrder(
  stream: TestStream,
  fields: Partial<OrderCreated> = {},
): Promise<{ order: OrderCreated; event: Envelope<"ticketing.order.created"> }> {
  const now = Date.now();
  const order: OrderCreated = {
    id: randomUUID(),
    ticketId: randomUUID(),
    buyerId: randomUUID(),
    sellerId: randomUUID(),
    total: { amount: 4_200, currency: "EUR" },
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 900_000).toISOString(),
    ...fields,
  };
  const event = await stream.publish("ticketing.order.created", order, { version: 1 });
  return { order, event };
}

/** Orders' next event of an order, at `version`. */
export function orderEvent<
  S extends
    | "ticketing.order.cancelled"
    | "ticketing.order.expired"
    | "ticketing.order.completed"
    | "ticketing.order.refund_required",
>(stream: TestStream, subject: S, data: Payload<S>, version: number, id?: string) {
  return stream.publish(subject, data, {
    aggregateId: (data as { id: string }).id,
    version,
    ...(id ? { id } : {}),
  });
}

export { eventually };
