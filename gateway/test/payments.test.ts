// Paying through the gateway: auth, tickets, orders, payments (sandbox, against stripe-mock) and
// the expiration worker on real servers; Stripe's webhooks reach payments through the gateway.
import { randomUUID } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { SANDBOX_WEBHOOK_SECRET, signWebhookPayload } from "@ticketing/payments";
import { STREAM } from "@ticketing/shared-events";
import { eventually } from "@ticketing/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, startSystem, type GraphQLResponse, type System, dataOf, signedUp } from "./support.js";

const CREATE_EVENT = `mutation($input: CreateEventInput!) { createEvent(input: $input) { id } }`;
const LIST_TICKET = `mutation($input: ListTicketInput!) { listTicket(input: $input) { id } }`;
const TICKET = `query($id: ID!) { ticket(id: $id) { id status } }`;
const CREATE_ORDER = `mutation CreateOrder($ticketId: ID!) { createOrder(ticketId: $ticketId) { id status total { amount currency } } }`;
const ORDER = `query Order($id: ID!) {
  order(id: $id) {
    id status expiresAt createdAt
    total { amount currency }
    ticket { id title status }
    buyer { id }
    payment { id status amount { amount currency } }
  }
}`;
const START_PAYMENT = `mutation StartPayment($orderId: ID!) {
  startPayment(orderId: $orderId) {
    paymentIntentId clientSecret
    amount { amount currency }
  }
}`;
const CONFIRM_SANDBOX = `mutation ConfirmSandboxPayment($orderId: ID!) {
  confirmSandboxPayment(orderId: $orderId) { id status }
}`;

interface OrderNode {
  id: string;
  status: string;
  total: { amount: number; currency: string };
  ticket: { id: string; status: string };
  buyer: { id: string };
  payment: { id: string; status: string; amount: { amount: number; currency: string } } | null;
}
interface StartNode {
  paymentIntentId: string;
  clientSecret: string;
  amount: { amount: number; currency: string };
}

const codeOf = (response: GraphQLResponse<unknown>) => response.errors?.[0]?.extensions?.code;
/** A signed-in fan without a sign-up's password hashing: a token auth itself signed. */
async function mintedBuyer(system: System): Promise<Browser> {
  const browser = new Browser(system.url);
  const token = await system.auth.signToken({ sub: randomUUID(), sid: randomUUID(), expiresInSeconds: 600 });
  browser.cookies.set("session", token);
  return browser;
}

interface Shop {
  system: System;
  ops: Browser;
  seller: Browser;
  eventId: string;
}

async function openShop(orders: Record<string, string>): Promise<Shop> {
  const ops = `ops-${randomUUID()}@example.com`;
  const system = await startSystem(
    { OPS_EMAILS: ops },
    {},
    { tickets: true, orders, payments: {}, expiration: true },
  );
  const opsBrowser = await signedUp(system, ops, "Ops");
  const seller = await signedUp(system, `seller-${randomUUID()}@example.com`, "Sam Seller");
  const event = dataOf(
    await opsBrowser.graphql<{ createEvent: { id: string } }>(CREATE_EVENT, {
      input: { name: "Night Show", venue: "Arena", city: "Lyon", startsAt: "2031-06-01T20:00:00Z" },
    }),
  );
  return { system, ops: opsBrowser, seller, eventId: event.createEvent.id };
}

async function list(shop: Shop, amount = 4_200): Promise<string> {
  const listed = dataOf(
    await shop.seller.graphql<{ listTicket: { id: string } }>(LIST_TICKET, {
      input: { eventId: shop.eventId, title: "Row A", price: { amount, currency: "EUR" } },
    }),
  );
  return listed.listTicket.id;
}

/** createOrder, retried while orders has not yet heard of a ticket just listed. */
async function order(browser: Browser, ticketId: string): Promise<OrderNode> {
  const response = await eventually(
    () => browser.graphql<{ createOrder: OrderNode }>(CREATE_ORDER, { ticketId }),
    (answer) => codeOf(answer) !== "NOT_FOUND",
  );
  return dataOf(response).createOrder;
}

const readOrder = async (browser: Browser, id: string) =>
  dataOf(await browser.graphql<{ order: OrderNode }>(ORDER, { id })).order;

const ticketStatus = async (shop: Shop, id: string) =>
  dataOf(await shop.ops.graphql<{ ticket: { status: string } }>(TICKET, { id })).ticket.status;

/** Posts a webhook to the public origin, as Stripe would. */
function postWebhook(system: System, payload: string, signature?: string) {
  return fetch(`${system.url}/webhooks/stripe`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(signature ? { "stripe-signature": signature } : {}) },
    body: payload,
  });
}

function succeeded(intent: StartNode, orderId: string, eventId = `evt_${randomUUID().replaceAll("-", "")}`) {
  return JSON.stringify({
    id: eventId,
    object: "event",
    type: "payment_intent.succeeded",
    created: Math.floor(Date.now() / 1_000),
    livemode: false,
    data: {
      object: {
        id: intent.paymentIntentId,
        object: "payment_intent",
        amount: intent.amount.amount,
        amount_received: intent.amount.amount,
        currency: intent.amount.currency.toLowerCase(),
        metadata: { orderId },
        status: "succeeded",
      },
    },
  });
}

/** How many events of `subject` about order `orderId` the stream holds. */
async function countEvents(system: System, subject: string, orderId: string): Promise<number> {
  const jsm = await jetstreamManager(system.nc);
  const last = (await jsm.streams.info(STREAM)).state.last_seq;
  let count = 0;
  for (let seq = 1; seq <= last; seq++) {
    const message = await jsm.streams.getMessage(STREAM, { seq }).catch(() => null);
    if (message?.subject !== subject) continue;
    const { data } = message.json<{ data: { orderId?: string; id?: string } }>();
    if (data.orderId === orderId || data.id === orderId) count++;
  }
  return count;
}

describe("paying, with a 15-minute hold", () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await openShop({ ORDER_HOLD_SECONDS: "900" });
  });
  afterAll(() => shop?.system.stop());

  it("takes a fan from a held ticket to a COMPLETE order and a SOLD ticket", async () => {
    const ticketId = await list(shop, 4_200);
    const buyer = await signedUp(shop.system, `buyer-${randomUUID()}@example.com`);
    const created = await order(buyer, ticketId);
    expect(created.status).toBe("AWAITING_PAYMENT");

    const stranger = await mintedBuyer(shop.system);
    expect(codeOf(await stranger.graphql(START_PAYMENT, { orderId: created.id }))).toBe("FORBIDDEN");
    expect(codeOf(await new Browser(shop.system.url).graphql(START_PAYMENT, { orderId: created.id }))).toBe(
      "UNAUTHENTICATED",
    );

    const start = dataOf(
      await buyer.graphql<{ startPayment: StartNode }>(START_PAYMENT, { orderId: created.id }),
    ).startPayment;
    expect(start.amount).toEqual({ amount: 4_200, currency: "EUR" });
    expect(start.clientSecret).toBeTruthy();
    const again = dataOf(
      await buyer.graphql<{ startPayment: StartNode }>(START_PAYMENT, { orderId: created.id }),
    ).startPayment;
    expect(again).toEqual(start);
    expect((await readOrder(buyer, created.id)).payment).toMatchObject({
      status: "PENDING",
      amount: { amount: 4_200, currency: "EUR" },
    });

    expect(codeOf(await stranger.graphql(CONFIRM_SANDBOX, { orderId: created.id }))).toBe("FORBIDDEN");
    const confirmed = dataOf(
      await buyer.graphql<{ confirmSandboxPayment: { id: string; status: string } }>(CONFIRM_SANDBOX, {
        orderId: created.id,
      }),
    ).confirmSandboxPayment;
    expect(confirmed.status).toBe("SUCCEEDED");

    const paid = await eventually(
      () => readOrder(buyer, created.id),
      (current) => current.status === "COMPLETE" && current.ticket.status === "SOLD",
    );
    expect(paid.status).toBe("COMPLETE");
    expect(paid.ticket.status).toBe("SOLD");
    expect(paid.payment).toEqual({
      id: confirmed.id,
      status: "SUCCEEDED",
      amount: { amount: 4_200, currency: "EUR" },
    });
    expect(await ticketStatus(shop, ticketId)).toBe("SOLD");
    // OPS sees the payment too; nobody can pay the order again.
    expect((await readOrder(shop.ops, created.id)).payment?.status).toBe("SUCCEEDED");
    expect(codeOf(await buyer.graphql(START_PAYMENT, { orderId: created.id }))).toBe("CONFLICT");
  });

  it("answers a webhook with a bad or missing signature with 400, and it changes nothing", async () => {
    const ticketId = await list(shop);
    const buyer = await mintedBuyer(shop.system);
    const created = await order(buyer, ticketId);
    const start = dataOf(
      await buyer.graphql<{ startPayment: StartNode }>(START_PAYMENT, { orderId: created.id }),
    ).startPayment;
    const payload = succeeded(start, created.id);
    expect((await postWebhook(shop.system, payload)).status).toBe(400);
    expect((await postWebhook(shop.system, payload, "t=1,v1=deadbeef")).status).toBe(400);
    expect(
      (await postWebhook(shop.system, payload, signWebhookPayload(payload, "whsec_not_ours"))).status,
    ).toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = await readOrder(buyer, created.id);
    expect(after.status).toBe("AWAITING_PAYMENT");
    expect(after.payment?.status).toBe("PENDING");
    expect(await ticketStatus(shop, ticketId)).toBe("RESERVED");

    // Signed properly and delivered twice through the gateway: paid once.
    const signature = signWebhookPayload(payload, SANDBOX_WEBHOOK_SECRET);
    expect((await postWebhook(shop.system, payload, signature)).status).toBe(200);
    expect((await postWebhook(shop.system, payload, signature)).status).toBe(200);
    const paid = await eventually(
      () => readOrder(buyer, created.id),
      (current) => current.status === "COMPLETE" && current.ticket.status === "SOLD",
    );
    expect(paid.status).toBe("COMPLETE");
    expect(await countEvents(shop.system, "ticketing.payment.succeeded", created.id)).toBe(1);
    expect(await countEvents(shop.system, "ticketing.order.completed", created.id)).toBe(1);
  });
});

describe("a payment that arrives after the hold ran out", () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await openShop({ ORDER_HOLD_SECONDS: "3" });
  });
  afterAll(() => shop?.system.stop());

  it("is refunded, the order stays EXPIRED and the ticket is sold once, to the next buyer", async () => {
    const ticketId = await list(shop, 7_500);
    const late = await mintedBuyer(shop.system);
    const created = await order(late, ticketId);
    const start = dataOf(
      await late.graphql<{ startPayment: StartNode }>(START_PAYMENT, { orderId: created.id }),
    ).startPayment;
    const expired = await eventually(
      () => readOrder(late, created.id),
      (current) => current.status === "EXPIRED",
    );
    expect(expired.status).toBe("EXPIRED");
    expect(codeOf(await late.graphql(START_PAYMENT, { orderId: created.id }))).toBe("CONFLICT");
    await eventually(
      () => ticketStatus(shop, ticketId),
      (status) => status === "AVAILABLE",
    );

    // Stripe took the money anyway (the buyer paid at the last second): it goes back.
    const payload = succeeded(start, created.id);
    const signature = signWebhookPayload(payload, SANDBOX_WEBHOOK_SECRET);
    expect((await postWebhook(shop.system, payload, signature)).status).toBe(200);
    const refunded = await eventually(
      () => readOrder(late, created.id),
      (current) => current.payment?.status === "REFUNDED",
    );
    expect(refunded.payment?.status).toBe("REFUNDED");
    expect(refunded.status).toBe("EXPIRED");
    expect(await ticketStatus(shop, ticketId)).toBe("AVAILABLE");
    // The same event again: still one refund.
    expect((await postWebhook(shop.system, payload, signature)).status).toBe(200);

    // The next buyer gets the ticket and pays at once: sold, once.
    const next = await mintedBuyer(shop.system);
    const second = await order(next, ticketId);
    const confirmed = dataOf(
      await next.graphql<{ confirmSandboxPayment: { status: string } }>(CONFIRM_SANDBOX, {
        orderId: second.id,
      }),
    ).confirmSandboxPayment;
    expect(confirmed.status).toBe("SUCCEEDED");
    const sold = await eventually(
      () => readOrder(next, second.id),
      (current) => current.status === "COMPLETE" && current.ticket.status === "SOLD",
    );
    expect(sold.status).toBe("COMPLETE");
    expect(sold.ticket.status).toBe("SOLD");
    expect((await readOrder(late, created.id)).status).toBe("EXPIRED");
    expect(await countEvents(shop.system, "ticketing.payment.refunded", created.id)).toBe(1);
    expect(await countEvents(shop.system, "ticketing.order.completed", created.id)).toBe(0);
    expect(await countEvents(shop.system, "ticketing.order.completed", second.id)).toBe(1);
  });
});
