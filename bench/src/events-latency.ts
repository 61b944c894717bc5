// Latency from publish (and from an aggregate-log append, through the outbox relay) to the
// consumer's handler, on private servers started for the run.
//   npm run bench -w @ticketing/bench -- [events per run = 1000] [runs = 5]
import { cpus } from "node:os";
import { connect } from "@nats-io/transport-node";
import {
  AggregateLog,
  createPublisher,
  ensureStreams,
  LOG_INDEXES,
  startConsumer,
  type AggregateState,
  type Envelope,
  type LogDocument,
  type ProjectionDocument,
} from "@ticketing/shared-events";
import { MongoClient } from "mongodb";
import pino from "pino";
import { withPrivateStack } from "./stack.js";
import { median, ms, summarize } from "./stats.js";

const events = Number(process.argv[2] ?? 1_000);
const runs = Number(process.argv[3] ?? 5);
const logger = pino({ level: "warn" });

await withPrivateStack(async (urls) => {
  const nc = await connect({ servers: urls.natsUrl });
  await ensureStreams(nc);
  const publisher = createPublisher(nc);
  const client = await new MongoClient(`${urls.mongoUrl}bench`).connect();
  const db = client.db();

  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let done: (() => void) | undefined;
  const consumer = await startConsumer({
    nc,
    durable: "bench",
    filterSubject: "ticketing.expiration.due",
    logger,
    concurrency: 16,
    handlers: {
      "ticketing.expiration.due": (event: Envelope<"ticketing.expiration.due">) => {
        const start = sentAt.get(event.aggregateId);
        if (start !== undefined) {
          latencies.push(performance.now() - start);
          if (latencies.length === events) done?.();
        }
        return Promise.resolve();
      },
    },
  });

  interface Hold extends AggregateState {
    orderId: string;
  }
  // The log indexed as an owner's model would index it: one createIndex per index.
  const holdEvents = db.collection<LogDocument>("hold_events");
  for (const key of LOG_INDEXES) await holdEvents.createIndex(key);
  const log = new AggregateLog<Hold, "ticketing.expiration.due">({
    log: holdEvents,
    projections: db.collection<ProjectionDocument<Hold>>("holds"),
    evolve: (_state, event) => ({ orderId: event.data.orderId }),
    publisher,
    logger,
  });
  await log.start();

  async function measure(label: string, send: (id: string) => Promise<unknown>) {
    const p50s: number[] = [];
    const p99s: number[] = [];
    for (let run = 1; run <= runs; run++) {
      sentAt.clear();
      latencies.length = 0;
      const finished = new Promise<void>((resolve) => (done = resolve));
      const started = performance.now();
      for (let i = 0; i < events; i++) {
        const id = `${label}-${run}-${i}`;
        sentAt.set(id, performance.now());
        await send(id);
      }
      await finished;
      const elapsed = performance.now() - started;
      const s = summarize(latencies);
      p50s.push(s.p50);
      p99s.push(s.p99);
      console.log(
        `${label} run ${run}: ${s.n} events in ${(elapsed / 1000).toFixed(2)} s (${Math.round((s.n * 1000) / elapsed)}/s), p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, max ${ms(s.max)}`,
      );
    }
    console.log(`${label}: median of ${runs} runs: p50 ${ms(median(p50s))}, p99 ${ms(median(p99s))}\n`);
  }

  console.log(
    `${events} events per run, ${runs} runs; ${cpus().length} cores, Node ${process.versions.node}\n`,
  );
  await measure("publish→handler", (id) =>
    publisher.publish("ticketing.expiration.due", { orderId: id }, { aggregateId: id }),
  );
  await measure("append→handler (outbox relay)", (id) =>
    log.append(id, 0, { subject: "ticketing.expiration.due", data: { orderId: id } }),
  );

  await log.stop();
  await consumer.stop();
  await nc.close();
  await client.close();
});
