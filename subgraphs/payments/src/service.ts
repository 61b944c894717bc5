import "reflect-metadata";
import { AggregateLog } from "@ticketing/shared-events";
import {
  commonSettings,
  defineService,
  driverCollection,
  type ServiceContext,
  type ServiceOptions,
} from "@ticketing/shared-runtime";
import { openModels } from "./data/models.js";
import { paymentStore } from "./data/store.js";
import { isSandbox, loadEnv, webhookSecretOf, type PaymentsEnv } from "./env.js";
import { startPaymentConsumers, type ConsumerNames } from "./events/consumers.js";
import { evolvePayment, PAYMENT_LOG } from "./domain/payments.js";
import { createPayments } from "./payments.js";
import { createServer, type PaymentsServer } from "./server.js";
import { createStripeGateway } from "./stripe.js";
import { WEBHOOK_PATH } from "./webhook.js";

export { loadEnv, SANDBOX_WEBHOOK_SECRET, type PaymentsEnv } from "./env.js";
export { CONSUMERS } from "./events/consumers.js";
export { signWebhookPayload } from "./stripe.js";

export const DATABASE = "ticketing-payments";

export interface PaymentsServiceOptions extends ServiceOptions {
  /** Durable consumer names; tests give each service its own. */
  consumers?: ConsumerNames;
}

/**
 * The payments service: the payment log, the order replica, the Stripe client (stripe-mock in
 * sandbox mode), the consumer, and the webhook endpoint.
 */
export const paymentsService = defineService({
  name: "payments",
  database: DATABASE,
  loadEnv,
  settings: commonSettings,
  async build(context: ServiceContext<PaymentsEnv, PaymentsServiceOptions>) {
    const { env, options, logger, mongo, nats, publisher, identity, readiness, defer, consumers } = context;
    const stripe = createStripeGateway(env);
    if (isSandbox(env)) {
      logger.info(
        { stripeMockUrl: env.STRIPE_MOCK_URL, webhookSecret: webhookSecretOf(env) },
        "sandbox mode: Stripe calls go to stripe-mock; webhooks are signed with this STRIPE_WEBHOOK_SECRET",
      );
    } else {
      logger.info("Stripe mode: calls go to Stripe with STRIPE_SECRET_KEY");
    }
    const models = await openModels(mongo);
    const store = paymentStore(models);
    const log = new AggregateLog({
      log: driverCollection(models.paymentEvents),
      projections: driverCollection(models.payments),
      evolve: evolvePayment,
      publisher,
      logger: logger.child({ log: PAYMENT_LOG.logCollection }),
    });
    await log.start();
    defer("flush the payment log", () => log.stop());
    /** Where this service listens, for confirmSandboxPayment's default webhook address. */
    let listening: number | undefined;
    const payments = createPayments({
      log,
      store,
      stripe,
      logger,
      webhookUrl: () =>
        env.STRIPE_SANDBOX_WEBHOOK_URL ?? `http://127.0.0.1:${listening ?? env.PORT}${WEBHOOK_PATH}`,
    });
    consumers(await startPaymentConsumers(nats, { payments, store, logger }, options.consumers));

    const subgraph = await createServer({
      payments,
      stripe,
      verifier: identity.verifier,
      logger,
      readiness,
      introspection: env.NODE_ENV !== "production",
    });
    const server: Pick<PaymentsServer, "listen" | "drain" | "close"> = {
      async listen(port, host) {
        const address = await subgraph.listen(port, host);
        listening = address.port;
        return address;
      },
      drain: () => subgraph.drain(),
      close: (graceMs) => subgraph.close(graceMs),
    };
    return { server, app: subgraph.app, payments };
  },
});

export type PaymentsService = Awaited<ReturnType<typeof paymentsService.start>>;
