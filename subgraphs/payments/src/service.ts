import "reflect-metadata";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AggregateLog, createPublisher, ensureStreams, type RunningConsumer } from "@ticketing/shared-events";
import {
  connectMongo,
  createLogger,
  createIdentity,
  runShutdownSteps,
  type Logger,
  type ProcessIdentity,
  type ShutdownStep,
} from "@ticketing/shared-runtime";
import type { Express } from "express";
import { paymentStore } from "./data/store.js";
import { isSandbox, webhookSecretOf, type PaymentsEnv } from "./env.js";
import { startPaymentConsumers, type ConsumerNames } from "./events/consumers.js";
import { evolvePayment, PAYMENT_LOG, type PaymentState } from "./events/payments.js";
import { createPayments, type Payments } from "./payments.js";
import { createServer, type PaymentsServer } from "./server.js";
import { createStripeGateway } from "./stripe.js";
import { WEBHOOK_PATH } from "./webhook.js";

export { loadEnv, SANDBOX_WEBHOOK_SECRET, type PaymentsEnv } from "./env.js";
export { CONSUMERS } from "./events/consumers.js";
export { signWebhookPayload } from "./stripe.js";

export const DATABASE = "ticketing-payments";

export interface PaymentsServiceOptions {
  logger?: Logger;
  /** The MongoDB database; tests give each suite its own. */
  database?: string;
  /** Durable consumer names; tests give each service its own. */
  consumers?: ConsumerNames;
}

export interface PaymentsService {
  app: Express;
  payments: Payments;
  /** Defaults to PORT and HOST. `url` is the GraphQL endpoint. */
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  shutdownSteps: ShutdownStep[];
  close(): Promise<void>;
}

/**
 * The whole payments service: MongoDB, NATS and the stream, the payment log, the order replica,
 * the Stripe client (stripe-mock in sandbox mode), the consumer, and the HTTP server with the
 * webhook endpoint.
 */
export async function createPaymentsService(
  env: PaymentsEnv,
  options: PaymentsServiceOptions = {},
): Promise<PaymentsService> {
  const logger = options.logger ?? createLogger("payments", env.LOG_LEVEL);
  let mongo: Awaited<ReturnType<typeof connectMongo>> | undefined;
  let nats: NatsConnection | undefined;
  let log: AggregateLog<PaymentState> | undefined;
  let consumers: RunningConsumer[] = [];
  let identity: ProcessIdentity | undefined;
  let server: PaymentsServer | undefined;
  /** Where this service listens, for confirmSandboxPayment's default webhook address. */
  let listening: number | undefined;

  const steps: ShutdownStep[] = [
    { name: "stop taking requests", run: () => server?.close() },
    {
      name: "drain the consumers",
      run: async () => void (await Promise.all(consumers.map((c) => c.stop()))),
    },
    { name: "stop the revocation watch", run: () => identity?.stop() },
    { name: "flush the payment log", run: () => log?.stop() },
    { name: "close NATS", run: () => nats?.drain() },
    { name: "close MongoDB", run: () => mongo?.close() },
  ];

  let payments: Payments | undefined;
  try {
    const stripe = createStripeGateway(env);
    if (isSandbox(env)) {
      logger.info(
        { stripeMockUrl: env.STRIPE_MOCK_URL, webhookSecret: webhookSecretOf(env) },
        "sandbox mode: Stripe calls go to stripe-mock; webhooks are signed with this STRIPE_WEBHOOK_SECRET",
      );
    } else {
      logger.info("Stripe mode: calls go to Stripe with STRIPE_SECRET_KEY");
    }
    mongo = await connectMongo(env.MONGO_URL, options.database ?? DATABASE, logger);
    nats = await connect({ servers: env.NATS_URL.split(","), name: "payments" });
    await ensureStreams(nats);
    const store = paymentStore(mongo);
    log = new AggregateLog<PaymentState>({
      connection: mongo,
      ...PAYMENT_LOG,
      evolve: evolvePayment,
      publisher: createPublisher(nats),
      logger: logger.child({ log: PAYMENT_LOG.logCollection }),
    });
    await log.start();
    payments = createPayments({
      log,
      store,
      stripe,
      logger,
      webhookUrl: () =>
        env.STRIPE_SANDBOX_WEBHOOK_URL ?? `http://127.0.0.1:${listening ?? env.PORT}${WEBHOOK_PATH}`,
    });
    consumers = await startPaymentConsumers(nats, { payments, store, logger }, options.consumers);

    identity = await createIdentity(nats, env.AUTH_JWKS_URL, logger);
    const { verifier } = identity;
    server = await createServer({
      payments,
      stripe,
      verifier,
      logger,
      readiness: { mongo, nats },
      introspection: env.NODE_ENV !== "production",
    });
  } catch (error) {
    await runShutdownSteps({ logger, steps, timeoutMs: 5_000 });
    throw error;
  }

  const started = server;
  const running = payments;
  let closing: Promise<void> | undefined;
  return {
    app: started.app,
    payments: running,
    async listen(port = env.PORT, host = env.HOST) {
      const address = await started.listen(port, host);
      listening = address.port;
      return address;
    },
    shutdownSteps: steps,
    close() {
      closing ??= runShutdownSteps({ logger, steps }).then((clean) => {
        if (!clean) throw new Error("the payments service did not shut down cleanly");
      });
      return closing;
    },
  };
}
