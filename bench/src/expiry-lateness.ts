// Hold expiry lateness. First, through the gateway: N buyers each reserve one of N tickets at once,
// so N holds end close together (as close as orders can create them: the spread is printed).
// Reports, from the stream's own storage times, how late after each order's `expiresAt` the
// expiration worker's `expiration.due` is stored, and how late orders' `order.expired` is (what
// a buyer and tickets see). Then the expiration worker alone, with N holds ending in the same
// millisecond: order.created published straight onto the stream for orders nobody made (tickets
// ignores them, orders finds nothing to expire). Services run as their own processes; buyers hold
// sessions signed with auth's own key.
//   npm run bench:expiry -w @ticketing/bench -- [orders = 1000] [runs = 3] [--hold=15]
// Variables set for the benchmark reach the services (EXPIRATION_CONCURRENCY, ORDER_SWEEP_SECONDS).
import { randomUUID } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createPublisher, STREAM, type Envelope } from "@ticketing/shared-events";
import { must, post, type Reply } from "./graph.js";
import { mintSessions } from "./sessions.js";
import { startServices } from "./services.js";
import { withPrivateStack } from "./stack.js";
import { median, summarize } from "./stats.js";

const positional = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
const option = (name: string, fallback: number) => {
  const found = process.argv.find((arg) => arg.startsWith(`--${name}=`));
  return found ? Number(found.split("=")[1]) : fallback;
};
const orderCount = Number(positional[0] ?? 1_000);
const runs = Number(positional[1] ?? 3);
const holdSeconds = option("hold", 15);
const SELLERS = 10;
/** How long after the last hold ends a run waits for the rest of its order.expired events. */
const STRAGGLER_MS = 120_000;
/** How far ahead the holds of the worker-alone runs end: time to schedule them all. */
const ALONE_LEAD_MS = 5_000;
/** Tries of one createOrder told RATE_LIMITED before it counts as failed. */
const MAX_ATTEMPTS = 60;

/** A message as the stream stored it, through the JetStream API's message get. */
interface Stored {
  envelope: Envelope;
  storedAt: number;
}

async function streamLastSeq(nc: NatsConnection): Promise<number> {
  const reply = await nc.request(`$JS.API.STREAM.INFO.${STREAM}`, "{}", { timeout: 5_000 });
  return reply.json<{ state: { last_seq: number } }>().state.last_seq;
}

/** Every message stored after sequence `since`, with the time the stream stored it. */
async function storedSince(nc: NatsConnection, since: number): Promise<Stored[]> {
  const last = await streamLastSeq(nc);
  const stored: Stored[] = [];
  for (let seq = since + 1; seq <= last; seq++) {
    const reply = await nc.request(`$JS.API.STREAM.MSG.GET.${STREAM}`, JSON.stringify({ seq }), {
      timeout: 5_000,
    });
    const { message } = reply.json<{ message?: { data: string; time: string } }>();
    if (!message) continue;
    stored.push({
      envelope: JSON.parse(Buffer.from(message.data, "base64").toString("utf8")) as Envelope,
      storedAt: Date.parse(message.time),
    });
  }
  return stored;
}

/** How many of `orderIds` have their order.expired on the stream after `since` (counted cheaply). */
function expiredCounter(nc: NatsConnection, orderIds: Set<string>) {
  const expired = new Set<string>();
  const subscription = nc.subscribe("ticketing.order.expired", {
    callback: (_error, msg) => {
      const id = msg.json<Envelope<"ticketing.order.expired">>().data.id;
      if (orderIds.has(id)) expired.add(id);
    },
  });
  return { count: () => expired.size, stop: () => subscription.unsubscribe() };
}

/** Waits, after each run, until tickets has made every ticket AVAILABLE again. */
function availability(nc: NatsConnection, ticketIds: Set<string>) {
  const reserved = new Set<string>();
  nc.subscribe("ticketing.ticket.updated", {
    callback: (_error, msg) => {
      const { id, status } = msg.json<Envelope<"ticketing.ticket.updated">>().data;
      if (!ticketIds.has(id)) return;
      if (status === "AVAILABLE") reserved.delete(id);
      else reserved.add(id);
    },
  });
  return {
    async all() {
      const deadline = Date.now() + STRAGGLER_MS;
      while (reserved.size > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
  };
}

/**
 * N holds ending in the same millisecond, for orders nobody made: order.created published as
 * orders would, then each expiration.due's lateness as the stream stored it.
 */
async function expirationAlone(nc: NatsConnection, count: number): Promise<number[]> {
  const publisher = createPublisher(nc);
  const since = await streamLastSeq(nc);
  const expiresAt = new Date(Date.now() + ALONE_LEAD_MS);
  const orderIds = new Set<string>(Array.from({ length: count }, () => randomUUID()));
  const dues = new Set<string>();
  const subscription = nc.subscribe("ticketing.expiration.due", {
    callback: (_error, msg) => {
      const { orderId } = msg.json<Envelope<"ticketing.expiration.due">>().data;
      if (orderIds.has(orderId)) dues.add(orderId);
    },
  });
  const createdAt = new Date().toISOString();
  await Promise.all(
    [...orderIds].map((id) =>
      publisher.publish(
        "ticketing.order.created",
        {
          id,
          ticketId: randomUUID(),
          buyerId: randomUUID(),
          sellerId: randomUUID(),
          total: { amount: 5_000, currency: "EUR" },
          createdAt,
          expiresAt: expiresAt.toISOString(),
        },
        { aggregateId: id, version: 1 },
      ),
    ),
  );
  const deadline = expiresAt.getTime() + STRAGGLER_MS;
  while (dues.size < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  subscription.unsubscribe();
  const lateness: number[] = [];
  for (const { envelope, storedAt } of await storedSince(nc, since)) {
    if (envelope.subject === "ticketing.expiration.due" && orderIds.has(envelope.data.orderId)) {
      lateness.push(storedAt - expiresAt.getTime());
    }
  }
  return lateness;
}

const seconds = (value: number) => `${(value / 1000).toFixed(2)} s`;
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(" ");

await withPrivateStack(async (infra) => {
  const services = await startServices(infra, ["auth", "tickets", "orders", "expiration"], {
    OPS_EMAILS: "ops@example.com",
    ORDER_HOLD_SECONDS: String(holdSeconds),
  });
  const graph = `${services.origin}/graphql`;

  type Created = Record<string, { id: string } | null>;
  const call = (query: string, variables: Record<string, unknown>, cookie?: string) =>
    post<Created>(graph, query, variables, cookie);
  async function inBatches<T>(count: number, size: number, make: (index: number) => Promise<T>) {
    const out: T[] = [];
    for (let start = 0; start < count; start += size) {
      const batch = Array.from({ length: Math.min(size, count - start) }, (_, i) => make(start + i));
      out.push(...(await Promise.all(batch)));
    }
    return out;
  }

  const [ops] = await mintSessions(infra.mongoUrl, 1, ["OPS"]);
  const sellers = await mintSessions(infra.mongoUrl, SELLERS);
  const buyers = await mintSessions(infra.mongoUrl, orderCount);
  const nc = await connect({ servers: infra.natsUrl });

  console.log(
    `${orderCount} holds of ${holdSeconds} s per run, ${runs} runs; ${cpus().length} cores, Node ${process.versions.node}\n`,
  );
  const event = await must<Created>(
    graph,
    "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
    { i: { name: "Holds", venue: "Arena", city: "Lyon", startsAt: "2031-01-01T20:00:00Z" } },
    ops,
  );
  const eventId = event.createEvent!.id;
  const listingStarted = performance.now();
  const tickets = await inBatches(orderCount, 20, async (i) => {
    const listed = await must<Created>(
      graph,
      "mutation($i: ListTicketInput!) { listTicket(input: $i) { id } }",
      { i: { eventId, title: `Seat ${i}`, price: { amount: 5_000 + i, currency: "EUR" } } },
      sellers[i % SELLERS],
    );
    return listed.listTicket!.id;
  });
  // Orders learns of tickets from the stream: its seller may not reserve a ticket orders knows.
  for (let attempt = 0; ; attempt++) {
    if (attempt > 600) throw new Error("orders never learnt of the tickets listed");
    const probe = await call(
      "mutation($t: ID!) { createOrder(ticketId: $t) { id } }",
      { t: tickets.at(-1) },
      sellers[(orderCount - 1) % SELLERS],
    );
    if (probe.errors?.[0]?.extensions?.code === "BAD_USER_INPUT") break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.log(`${orderCount} tickets listed in ${seconds(performance.now() - listingStarted)}`);
  // Each run reserves the same tickets again once tickets has released them all.
  const available = availability(nc, new Set(tickets));

  const dueP99s: number[] = [];
  const expiredP99s: number[] = [];
  const dueP50s: number[] = [];
  const expiredP50s: number[] = [];
  for (let run = 1; run <= runs; run++) {
    await available.all();
    // Orders' replica follows tickets' events; the listings' or releases' events settle first.
    await new Promise((resolve) => setTimeout(resolve, 2_000));

    const since = await streamLastSeq(nc);
    const started = performance.now();
    const failures: string[] = [];
    let retried = 0;
    const orderIds = new Set<string>();
    const counter = expiredCounter(nc, orderIds);
    await Promise.all(
      buyers.map(async (cookie, index) => {
        // A buyer told to come back later (RATE_LIMITED, with retryAfter) does, as a client would.
        for (let attempt = 1; ; attempt++) {
          const reply = await call(
            "mutation($t: ID!) { createOrder(ticketId: $t) { id } }",
            { t: tickets[index] },
            cookie,
          ).catch((error: unknown) => {
            const failed: Reply<Created> = { errors: [{ message: String(error) }] };
            return failed;
          });
          const id = reply.data?.createOrder?.id;
          if (id) return orderIds.add(id);
          const error = reply.errors?.[0];
          if (error?.extensions?.code !== "RATE_LIMITED" || attempt >= MAX_ATTEMPTS) {
            return failures.push(JSON.stringify(reply.errors));
          }
          retried++;
          const waitSeconds = error.extensions.retryAfter ?? 1;
          await new Promise((resolve) => setTimeout(resolve, waitSeconds * 1_000));
        }
      }),
    );
    const creating = performance.now() - started;
    if (creating > holdSeconds * 1_000) {
      console.log(
        `run ${run}: creating took longer than a hold: holds ended while orders were still created`,
      );
    }
    console.log(
      `run ${run}: ${orderIds.size} orders created in ${seconds(creating)}, ${retried} createOrder calls told to retry later` +
        (failures.length ? `, ${failures.length} failed (first: ${failures[0]})` : ""),
    );

    const deadline = Date.now() + holdSeconds * 1_000 + creating + STRAGGLER_MS;
    while (counter.count() < orderIds.size && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    counter.stop();
    // The load while the holds ended, before reading the stream adds its own.
    const loadAtEnd = load();

    const expiresAt = new Map<string, number>();
    const dueAt = new Map<string, number>();
    const expiredAt = new Map<string, { storedAt: number; bySweep: boolean }>();
    for (const { envelope, storedAt } of await storedSince(nc, since)) {
      if (envelope.subject === "ticketing.order.created") {
        const { id, expiresAt: end } = envelope.data;
        if (orderIds.has(id)) expiresAt.set(id, Date.parse(end));
      } else if (envelope.subject === "ticketing.expiration.due") {
        const { orderId } = envelope.data;
        if (orderIds.has(orderId) && !dueAt.has(orderId)) dueAt.set(orderId, storedAt);
      } else if (envelope.subject === "ticketing.order.expired") {
        const { id } = envelope.data;
        // Orders' sweep expires an overdue order without a cause; expiration.due's is its cause.
        if (orderIds.has(id)) expiredAt.set(id, { storedAt, bySweep: !envelope.meta?.causationId });
      }
    }
    const holdEnds = [...expiresAt.values()];
    const spread = Math.max(...holdEnds) - Math.min(...holdEnds);
    const due = summarize([...dueAt].map(([id, at]) => at - expiresAt.get(id)!));
    const expired = summarize([...expiredAt].map(([id, { storedAt }]) => storedAt - expiresAt.get(id)!));
    const ordersPart = summarize(
      [...expiredAt]
        .filter(([id, { bySweep }]) => !bySweep && dueAt.has(id))
        .map(([id, { storedAt }]) => storedAt - dueAt.get(id)!),
    );
    const bySweep = [...expiredAt.values()].filter((entry) => entry.bySweep).length;
    // How fast orders expired them: the rate the stream received order.expired at.
    const expiredTimes = [...expiredAt.values()].map((entry) => entry.storedAt);
    const expiredPerSecond =
      ((expiredTimes.length - 1) * 1000) / (Math.max(...expiredTimes) - Math.min(...expiredTimes));
    dueP50s.push(due.p50);
    dueP99s.push(due.p99);
    expiredP50s.push(expired.p50);
    expiredP99s.push(expired.p99);
    console.log(
      `run ${run}: holds end over ${seconds(spread)}; load ${loadAtEnd}\n` +
        `  expiration.due − expiresAt   p50 ${seconds(due.p50)}  p99 ${seconds(due.p99)}  max ${seconds(due.max)}  (${due.n} of ${orderIds.size})\n` +
        `  order.expired − expiresAt    p50 ${seconds(expired.p50)}  p99 ${seconds(expired.p99)}  max ${seconds(expired.max)}  (${expired.n}, ${bySweep} by orders' sweep, ${expiredPerSecond.toFixed(0)}/s)\n` +
        `  order.expired − expiration.due  p50 ${seconds(ordersPart.p50)}  p99 ${seconds(ordersPart.p99)}  max ${seconds(ordersPart.max)}`,
    );
  }
  console.log(
    `\nthrough the gateway, median of ${runs} runs: expiration.due lateness p50 ${seconds(median(dueP50s))} p99 ${seconds(median(dueP99s))}; ` +
      `order.expired lateness p50 ${seconds(median(expiredP50s))} p99 ${seconds(median(expiredP99s))} (goal: p99 < 1 s)\n`,
  );

  const aloneP50s: number[] = [];
  const aloneP99s: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const due = summarize(await expirationAlone(nc, orderCount));
    aloneP50s.push(due.p50);
    aloneP99s.push(due.p99);
    console.log(
      `worker alone, run ${run}: ${orderCount} holds ending together, load ${load()}\n` +
        `  expiration.due − expiresAt   p50 ${seconds(due.p50)}  p99 ${seconds(due.p99)}  max ${seconds(due.max)}  (${due.n} of ${orderCount})`,
    );
  }
  console.log(
    `\nworker alone, median of ${runs} runs: expiration.due lateness p50 ${seconds(median(aloneP50s))} p99 ${seconds(median(aloneP99s))}`,
  );
  await nc.close();
  await services.stop();
});
