// POST /webhooks/stripe: the raw body, its signature verified before anything else is read.
import { requestScope } from "@ticketing/shared-runtime";
import express, { type Express } from "express";
import type { Payments } from "./payments.js";
import { SignatureError, type StripeGateway } from "./stripe.js";

export const WEBHOOK_PATH = "/webhooks/stripe";

export function webhookRoute({ payments, stripe }: { payments: Payments; stripe: StripeGateway }) {
  return (app: Express) => {
    app.post(WEBHOOK_PATH, express.raw({ type: () => true, limit: "1mb" }), async (req, res) => {
      const { logger } = requestScope(req);
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let event;
      try {
        event = stripe.verify(body, req.get("stripe-signature"));
      } catch (error) {
        logger.warn({ reason: error instanceof Error ? error.message : String(error) }, "webhook refused");
        const message = error instanceof SignatureError ? "Bad or missing signature" : "Not a Stripe event";
        res.status(400).json({ error: message });
        return;
      }
      try {
        const outcome = await payments.webhook(event);
        logger.info({ stripeEvent: event.id, type: event.type, outcome }, "webhook taken");
        res.json({ received: true });
      } catch (err) {
        // Not acknowledged: Stripe delivers it again later.
        logger.error({ err, stripeEvent: event.id }, "webhook could not be applied");
        res.status(503).set("retry-after", "30").json({ error: "Not applied; retry later" });
      }
    });
  };
}
