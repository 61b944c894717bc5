// Each server the harness starts is the real thing, reached through the client the services use.
import { AckPolicy, jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Queue, Worker, type Job } from "bullmq";
import { Redis } from "ioredis";
import mongoose from "mongoose";
import Stripe from "stripe";
import { afterAll, describe, expect, it } from "vitest";
import { infra, mongoDatabaseUrl, uniqueName } from "../src/testing.js";

describe("the test harness", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("gives a MongoDB-wire server that keeps documents and enforces unique indexes", async () => {
    const connection = await mongoose.createConnection(mongoDatabaseUrl("harness")).asPromise();
    cleanups.push(() => connection.close());
    const User = connection.model(
      "User",
      new mongoose.Schema({ email: { type: String, required: true, unique: true }, name: String }),
    );
    await User.init();

    await User.create({ email: "ada@example.com", name: "Ada" });
    const found = await User.findOne({ email: "ada@example.com" }).lean();
    expect(found?.name).toBe("Ada");

    await expect(User.create({ email: "ada@example.com", name: "Impostor" })).rejects.toMatchObject({
      code: 11000,
    });
    expect(await User.countDocuments()).toBe(1);
  });

  it("gives NATS with JetStream: publishes are deduplicated and a durable consumer receives them", async () => {
    const nc = await connect({ servers: infra().natsUrl });
    cleanups.push(() => nc.close());
    const stream = uniqueName("HARNESS").toUpperCase();
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: stream,
      subjects: [`${stream}.>`],
      storage: StorageType.File,
      duplicate_window: 120_000_000_000,
    });
    const js = jetstream(nc);

    const first = await js.publish(`${stream}.greeting`, JSON.stringify({ hello: "world" }), {
      msgID: "m-1",
    });
    const again = await js.publish(`${stream}.greeting`, JSON.stringify({ hello: "world" }), {
      msgID: "m-1",
    });
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(again.seq).toBe(first.seq);

    await jsm.consumers.add(stream, { durable_name: "worker", ack_policy: AckPolicy.Explicit });
    const consumer = await js.consumers.get(stream, "worker");
    const message = await consumer.next({ expires: 5_000 });
    expect(message?.subject).toBe(`${stream}.greeting`);
    expect(message?.json()).toEqual({ hello: "world" });
    message?.ack();
    const info = await jsm.consumers.info(stream, "worker");
    expect(info.num_pending).toBe(0);
  });

  it("gives Redis on which a BullMQ delayed job runs no earlier than its delay", async () => {
    const connection = new Redis(infra().redisUrl, { maxRetriesPerRequest: null });
    cleanups.push(() => connection.quit());
    const name = uniqueName("holds");
    const queue = new Queue(name, { connection });
    cleanups.push(() => queue.close());

    const processed = new Promise<{ job: Job; at: number }>((resolve) => {
      const worker = new Worker(name, (job) => Promise.resolve(resolve({ job, at: Date.now() })), {
        connection,
      });
      cleanups.push(() => worker.close());
    });
    const added = Date.now();
    await queue.add("expire", { orderId: "order-1" }, { delay: 400, jobId: "order-1" });
    const { job, at } = await processed;

    expect(job.id).toBe("order-1");
    expect(job.data).toEqual({ orderId: "order-1" });
    expect(at - added).toBeGreaterThanOrEqual(400);
  });

  it("gives a Stripe API that creates PaymentIntents and rejects invalid ones", async () => {
    const url = new URL(infra().stripeMockUrl ?? "");
    const stripe = new Stripe("sk_test_harness", {
      host: url.hostname,
      port: Number(url.port),
      protocol: "http",
      maxNetworkRetries: 0,
    });
    const intent = await stripe.paymentIntents.create({
      amount: 2500,
      currency: "usd",
      metadata: { orderId: "order-1" },
    });
    expect(intent.object).toBe("payment_intent");
    expect(intent.id).toMatch(/^pi_/);
    expect(intent.client_secret).toBeTruthy();

    await expect(
      stripe.paymentIntents.create({ currency: "usd" } as Stripe.PaymentIntentCreateParams),
    ).rejects.toMatchObject({ type: "StripeInvalidRequestError" });
  });
});
