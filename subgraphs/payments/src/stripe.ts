// The one place the Stripe client lives. Sandbox mode points it at stripe-mock with a dummy key;
// with real keys the same calls reach Stripe: only the configuration differs.
import type { Money } from "@ticketing/shared-events";
import Stripe from "stripe";
import { isSandbox, webhookSecretOf, type PaymentsEnv } from "./env.js";

/** Any test key satisfies stripe-mock. */
const SANDBOX_KEY = "sk_test_123";

export interface CreatedIntent {
  id: string;
  clientSecret: string;
}

/** What a verified webhook tells payments. */
export type WebhookEvent =
  | {
      id: string;
      type: "payment_intent.succeeded";
      paymentIntentId: string;
      orderId: string | null;
      /** What Stripe took: `amount_received`, or `amount` when that is missing. */
      amount: Money;
    }
  | {
      id: string;
      type: "payment_intent.payment_failed";
      paymentIntentId: string;
      orderId: string | null;
      reason: string;
    }
  | { id: string; type: "other"; stripeType: string };

export class SignatureError extends Error {
  override name = "SignatureError";
}

export interface StripeGateway {
  readonly sandbox: boolean;
  createIntent(orderId: string, amount: Money, idempotencyKey: string): Promise<CreatedIntent>;
  refund(paymentIntentId: string, idempotencyKey: string): Promise<{ id: string }>;
  /** Verifies the signature over the raw body; SignatureError when it does not hold. */
  verify(rawBody: Buffer, signature: string | undefined): WebhookEvent;
  /** A `stripe-signature` header for a payload, signed with the webhook secret (sandbox). */
  sign(payload: string): string;
}

export function createStripeGateway(env: PaymentsEnv): StripeGateway {
  const sandbox = isSandbox(env);
  const secret = webhookSecretOf(env);
  const common = { maxNetworkRetries: 2, timeout: 20_000, appInfo: { name: "ticketing-payments" } };
  let client: Stripe;
  if (sandbox) {
    const mock = new URL(env.STRIPE_MOCK_URL);
    client = new Stripe(SANDBOX_KEY, {
      ...common,
      host: mock.hostname,
      port: mock.port || (mock.protocol === "https:" ? 443 : 80),
      protocol: mock.protocol === "https:" ? "https" : "http",
    });
  } else {
    client = new Stripe(env.STRIPE_SECRET_KEY!, common);
  }

  return {
    sandbox,

    async createIntent(orderId, amount, idempotencyKey) {
      const intent = await client.paymentIntents.create(
        {
          amount: amount.amount,
          currency: amount.currency.toLowerCase(),
          metadata: { orderId },
          automatic_payment_methods: { enabled: true },
        },
        { idempotencyKey },
      );
      if (!intent.client_secret) throw new Error(`PaymentIntent ${intent.id} came without a client secret`);
      return { id: intent.id, clientSecret: intent.client_secret };
    },

    async refund(paymentIntentId, idempotencyKey) {
      const refund = await client.refunds.create({ payment_intent: paymentIntentId }, { idempotencyKey });
      return { id: refund.id };
    },

    verify(rawBody, signature) {
      if (!signature) throw new SignatureError("No stripe-signature header");
      let event: Stripe.Event;
      try {
        // Stripe's library decodes a Buffer before it checks the signature, dropping a leading BOM
        // and replacing invalid UTF-8: it would accept bytes that were not signed. Decoded here
        // strictly and with any BOM kept, the text it checks encodes back to exactly these bytes.
        const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(rawBody);
        event = client.webhooks.constructEvent(text, signature, secret);
      } catch (error) {
        throw new SignatureError(error instanceof Error ? error.message : "Bad signature");
      }
      if (event.type === "payment_intent.succeeded") {
        const intent = event.data.object;
        return {
          id: event.id,
          type: event.type,
          paymentIntentId: intent.id,
          orderId: intent.metadata?.orderId ?? null,
          amount: {
            amount: intent.amount_received || intent.amount,
            currency: String(intent.currency).toUpperCase(),
          },
        };
      }
      if (event.type === "payment_intent.payment_failed") {
        const intent = event.data.object;
        return {
          id: event.id,
          type: event.type,
          paymentIntentId: intent.id,
          orderId: intent.metadata?.orderId ?? null,
          reason: intent.last_payment_error?.message ?? intent.last_payment_error?.code ?? "payment failed",
        };
      }
      return { id: event.id, type: "other", stripeType: event.type };
    },

    sign(payload) {
      return client.webhooks.generateTestHeaderString({ payload, secret });
    },
  };
}

/**
 * A `stripe-signature` header for a webhook body, as Stripe computes it (the stripe package's
 * own helper): for sandbox tools and tests that play Stripe.
 */
export function signWebhookPayload(payload: string, secret: string): string {
  return new Stripe(SANDBOX_KEY).webhooks.generateTestHeaderString({ payload, secret });
}
