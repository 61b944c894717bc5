import { randomUUID } from "node:crypto";
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  createPublisher,
  ensureStreams,
  parseEnvelope,
  STREAM,
  type Envelope,
  type Publisher,
} from "@ticketing/shared-events";
import { infra, natsUrlFor, uniqueName } from "@ticketing/testkit";
import { expirationService, loadEnv, ORDERS_CONSUMER, type ExpirationService } from "../src/service.js";

export interface RunningExpiration {
  service: ExpirationService;
  origin: string;
  /** The names it runs under, to start another worker in its place. */
  names: Names;
  get(path: string): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export interface Names {
  consumer: string;
  queue: string;
}

export const newNames = (): Names => ({
  consumer: uniqueName("expiration_orders"),
  queue: uniqueName("order-expiration"),
});

/**
 * The worker on a free port, with a queue and an order consumer of its own. The consumer is
 * created here, before the worker, to take only order events published from now on: the test
 * file's earlier orders are not this worker's business.
 */
export async function startExpiration(
  stream: OrderStream,
  {
    names = newNames(),
    redisUrl = infra().redisUrl,
    natsUrl = natsUrlFor("expiration"),
  }: { names?: Names; redisUrl?: string; natsUrl?: string } = {},
): Promise<RunningExpiration> {
  await stream.createConsumer(names.consumer);
  const env = loadEnv({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    NATS_URL: natsUrl,
    REDIS_URL: redisUrl,
  });
  const service = await expirationService.start(env, {
    ordersConsumer: names.consumer,
    queue: { name: names.queue },
  });
  const { port } = await service.listen(0, "127.0.0.1");
  const origin = `http://127.0.0.1:${port}`;
  return {
    service,
    origin,
    names,
    async get(path) {
      const response = await fetch(`${origin}${path}`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    close: () => service.close(),
  };
}

export interface Due {
  envelope: Envelope<"ticketing.expiration.due">;
  /** When the stream stored it. */
  storedAt: number;
}

/** Orders played by the test: publishes order.created as orders would, reads what expiration published. */
export class OrderStream {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly publisher: Publisher,
  ) {}

  static async open(natsUrl: string = infra().natsUrl): Promise<OrderStream> {
    // Waits out a NATS server a test stops and starts again.
    const nc = await connect({ servers: natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    await ensureStreams(nc);
    return new OrderStream(nc, createPublisher(nc));
  }

  /** Publishes an order.created for a new order whose hold ends at `expiresAt`. */
  orderCreated(expiresAt: Date, orderId: string = randomUUID()) {
    const now = new Date();
    return this.publisher.publish(
      "ticketing.order.created",
      {
        id: orderId,
        ticketId: randomUUID(),
        buyerId: randomUUID(),
        sellerId: randomUUID(),
        total: { amount: 5_000, currency: "EUR" },
        createdAt: now.toISOString(),
        expiresAt: expiresAt.toISOString(),
      },
      { aggregateId: orderId, id: randomUUID(), version: 1 },
    );
  }

  /** Sends an envelope again under its own id: the stream drops it as a duplicate. */
  async republish(envelope: Envelope): Promise<{ duplicate: boolean }> {
    return this.publisher.publishEnvelope(envelope);
  }

  /**
   * Sends the same envelope again under another message id, so that the stream stores it twice:
   * what a consumer sees when an event is delivered again.
   */
  async redeliver(envelope: Envelope): Promise<number> {
    const ack = await jetstream(this.nc).publish(envelope.subject, JSON.stringify(envelope), {
      msgID: randomUUID(),
    });
    return ack.seq;
  }

  async createConsumer(durable: string): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    await jsm.consumers.add(STREAM, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      filter_subject: ORDERS_CONSUMER.filterSubject,
    });
  }

  /** How far a consumer got: the last stream sequence delivered, and how many await their ack. */
  async consumerProgress(durable: string) {
    const jsm = await jetstreamManager(this.nc);
    const info = await jsm.consumers.info(STREAM, durable);
    return {
      deliveredSeq: info.delivered.stream_seq,
      pending: info.num_pending,
      ackPending: info.num_ack_pending,
      redelivered: info.num_redelivered,
    };
  }

  /** Resolves once `durable` has been given everything up to `seq` and acked it all. */
  async settled(durable: string, seq: number): Promise<boolean> {
    const progress = await this.consumerProgress(durable);
    return progress.deliveredSeq >= seq && progress.pending === 0 && progress.ackPending === 0;
  }

  async lastSeq(): Promise<number> {
    const jsm = await jetstreamManager(this.nc);
    return (await jsm.streams.info(STREAM)).state.last_seq;
  }

  /** Every expiration.due stored for `orderId` after sequence `since`. */
  async dues(orderId: string, since: number): Promise<Due[]> {
    return (await this.duesSince(since)).filter((due) => due.envelope.data.orderId === orderId);
  }

  /** Every expiration.due stored after sequence `since`. */
  async duesSince(since: number): Promise<Due[]> {
    const jsm = await jetstreamManager(this.nc);
    const last = await this.lastSeq();
    const found: Due[] = [];
    for (let seq = since + 1; seq <= last; seq++) {
      const message = await jsm.streams.getMessage(STREAM, { seq }).catch(() => null);
      if (message?.subject !== "ticketing.expiration.due") continue;
      const envelope = parseEnvelope(message.json()) as Envelope<"ticketing.expiration.due">;
      found.push({ envelope, storedAt: message.time.getTime() });
    }
    return found;
  }

  close(): Promise<void> {
    return this.nc.close();
  }
}
