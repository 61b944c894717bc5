// The NATS users of the deployables, on a nats-server configured as `npm start`'s and the chart's:
// each publishes only the subjects it owns and reads only its own durable consumers, a service
// cannot change the streams, and a connection without a user is refused.
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  NATS_ADMIN,
  NATS_SERVICES,
  natsAuthConfig,
  OwnServer,
  randomNatsPasswords,
  type NatsService,
} from "@ticketing/testkit";
import {
  createPublisher,
  ensureStreams,
  follow,
  startConsumer,
  STREAM,
  subjects,
  type Envelope,
} from "../src/index.js";
import { eventually, silent } from "./support.js";

const services = Object.keys(NATS_SERVICES) as NatsService[];
const passwords = randomNatsPasswords();
let server: OwnServer;
const connections: NatsConnection[] = [];

async function as(user: NatsService | typeof NATS_ADMIN): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url, user, pass: passwords[user] });
  connections.push(nc);
  return nc;
}

beforeAll(async () => {
  // No harness user for anonymous connections here: exactly the users the chart has.
  server = await OwnServer.start("nats", { config: natsAuthConfig({ passwords }) });
});

afterAll(async () => {
  await Promise.all(connections.map((nc) => nc.close()));
  await server.remove();
});

describe("NATS users", () => {
  it("refuses a connection without a user, and one with a wrong password", async () => {
    await expect(connect({ servers: server.url })).rejects.toThrow(/Authorization Violation/);
    await expect(connect({ servers: server.url, user: "orders", pass: passwords.payments })).rejects.toThrow(
      /Authorization Violation/,
    );
  });

  it("lets a service create the missing streams but never change or remove them", async () => {
    const orders = await as("orders");
    await ensureStreams(orders);
    await ensureStreams(orders);
    const jsm = await jetstreamManager(orders);
    await expect(jsm.streams.update(STREAM, { max_age: 1_000_000_000 })).rejects.toThrow(
      /Permissions Violation/,
    );
    await expect(jsm.streams.purge(STREAM)).rejects.toThrow(/Permissions Violation/);
    await expect(jsm.streams.delete(STREAM)).rejects.toThrow(/Permissions Violation/);
    const admin = await jetstreamManager(await as(NATS_ADMIN));
    const updated = await admin.streams.update(STREAM, { max_msgs_per_subject: -1 });
    expect(updated.config.name).toBe(STREAM);
  });

  it("gives every subject of the catalogue exactly one publisher", () => {
    const owned = services.flatMap((service) => NATS_SERVICES[service].publishes);
    expect([...owned].sort()).toEqual([...subjects].sort());
  });

  it("lets each service publish its own subjects and refuses every other", async () => {
    const outcomes: Record<string, string[]> = {};
    const expected: Record<string, string[]> = {};
    for (const service of services) {
      const js = jetstream(await as(service), { timeout: 5_000 });
      const own: readonly string[] = NATS_SERVICES[service].publishes;
      outcomes[service] = [];
      expected[service] = subjects.map(
        (subject) => `${subject}: ${own.includes(subject) ? "stored" : "refused"}`,
      );
      for (const subject of subjects) {
        const outcome = await js.publish(subject, "{}").then(
          () => "stored",
          (error: unknown) => (String(error).includes("Permissions Violation") ? "refused" : String(error)),
        );
        outcomes[service].push(`${subject}: ${outcome}`);
      }
    }
    expect(outcomes).toEqual(expected);
    // The cases that matter most, spelled out.
    expect(outcomes.tickets).toContain("ticketing.payment.succeeded: refused");
    expect(outcomes.payments).toContain("ticketing.order.completed: refused");
    expect(outcomes.gateway?.every((line) => line.endsWith("refused"))).toBe(true);
  });

  it("delivers a payment through the services' own publisher and durable consumer, which no other service can read", async () => {
    const payments = createPublisher(await as("payments"));
    const orders = await as("orders");
    const seen: Envelope<"ticketing.payment.succeeded">[] = [];
    const consumer = await startConsumer({
      nc: orders,
      durable: "orders-payments",
      filterSubject: "ticketing.payment.>",
      logger: silent,
      handlers: {
        "ticketing.payment.succeeded": (event) => {
          seen.push(event);
          return Promise.resolve();
        },
      },
    });
    try {
      const sent = await payments.publish(
        "ticketing.payment.succeeded",
        {
          id: "pay-1",
          orderId: "order-1",
          paymentIntentId: "pi_1",
          amount: { amount: 2500, currency: "EUR" },
        },
        { aggregateId: "pay-1" },
      );
      expect(
        (
          await eventually(
            () => seen,
            (list) => list.length > 0,
          )
        ).map((event) => event.id),
      ).toEqual([sent.id]);
    } finally {
      await consumer.stop();
    }

    // Tickets may look at orders' consumer, not take its messages, ack them or remove it.
    const tickets = await as("tickets");
    const jsm = await jetstreamManager(tickets);
    expect((await jsm.consumers.info(STREAM, "orders-payments")).name).toBe("orders-payments");
    await expect(jsm.consumers.delete(STREAM, "orders-payments")).rejects.toThrow(/Permissions Violation/);
    await expect(
      tickets.request(`$JS.API.CONSUMER.MSG.NEXT.${STREAM}.orders-payments`, JSON.stringify({ batch: 1 }), {
        timeout: 2_000,
      }),
    ).rejects.toThrow(/Permissions Violation/);
    await expect(
      jsm.consumers.add(STREAM, { durable_name: "orders-payments", filter_subject: "ticketing.>" }),
    ).rejects.toThrow(/Permissions Violation/);
  });

  it("lets a service follow subjects from now on with its short-lived consumers", async () => {
    const gateway = await as("gateway");
    const seen: string[] = [];
    const follower = await follow(
      gateway,
      ["ticketing.ticket.updated"],
      { from: "new", logger: silent },
      (event) => {
        seen.push(event.aggregateId);
      },
    );
    try {
      await createPublisher(await as("tickets")).publish(
        "ticketing.ticket.updated",
        {
          id: "ticket-1",
          eventId: "event-1",
          sellerId: "seller-1",
          title: "Row A",
          section: null,
          price: { amount: 5000, currency: "EUR" },
          status: "AVAILABLE",
          orderId: null,
          version: 2,
        },
        { aggregateId: "ticket-1", version: 2 },
      );
      expect(
        await eventually(
          () => seen,
          (list) => list.length > 0,
        ),
      ).toEqual(["ticket-1"]);
    } finally {
      await follower.stop();
    }
  });
});
