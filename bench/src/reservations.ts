// Reservations through the gateway: 1,000 signed-in buyers race for the 100 tickets of an event.
// Each buyer picks a ticket not yet known to be taken, tries createOrder, and stops once it has
// one; a CONFLICT tells every buyer that ticket is gone (as live availability would). Reports
// reservations per minute, createOrder latency, and how long tickets takes to show a ticket
// RESERVED after its order.created (read off the stream). Services run as their own processes.
// Buyers hold sessions signed with auth's own key (a thousand sign-ups would measure scrypt).
//   npm run bench:reservations -w @ticketing/bench -- [buyers = 1000] [tickets = 100] [runs = 3]
import { cpus } from "node:os";
import { connect } from "@nats-io/transport-node";
import type { Reply as GraphReply } from "./graph.js";
import { mintSessions } from "./sessions.js";
import { startServices } from "./services.js";
import { withPrivateStack } from "./stack.js";
import { median, ms, summarize } from "./stats.js";

const buyerCount = Number(process.argv[2] ?? 1_000);
const ticketCount = Number(process.argv[3] ?? 100);
const runs = Number(process.argv[4] ?? 3);
const SELLERS = 10;

type Reply = GraphReply<Record<string, { id: string } | null>>;

await withPrivateStack(async (infra) => {
  const services = await startServices(infra, ["auth", "tickets", "orders"], {
    OPS_EMAILS: "ops@example.com",
    ORDER_HOLD_SECONDS: "900",
  });
  const graph = `${services.origin}/graphql`;

  async function call(query: string, variables: Record<string, unknown>, cookie?: string) {
    const response = await fetch(graph, {
      method: "POST",
      headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as Reply;
    const session = response.headers
      .getSetCookie()
      .find((c) => c.startsWith("session="))
      ?.split(";")[0];
    return { body, cookie: session };
  }
  const must = async (query: string, variables: Record<string, unknown>, cookie?: string) => {
    const reply = await call(query, variables, cookie);
    if (reply.body.errors) throw new Error(JSON.stringify(reply.body.errors));
    return reply;
  };
  const signUp = async (email: string) => {
    const reply = await must("mutation($i: SignUpInput!) { signUp(input: $i) { id } }", {
      i: { email, password: "correct horse battery", displayName: email.split("@")[0] },
    });
    return reply.cookie!;
  };
  async function inBatches<T>(count: number, size: number, make: (index: number) => Promise<T>) {
    const out: T[] = [];
    for (let start = 0; start < count; start += size) {
      const batch = Array.from({ length: Math.min(size, count - start) }, (_, i) => make(start + i));
      out.push(...(await Promise.all(batch)));
    }
    return out;
  }

  const setupStarted = performance.now();
  const ops = await signUp("ops@example.com");
  const sellers = await inBatches(SELLERS, 4, (i) => signUp(`seller${i}@example.com`));
  const buyers = await mintSessions(infra.mongoUrl, buyerCount);
  console.log(`set up in ${((performance.now() - setupStarted) / 1000).toFixed(0)} s`);

  // order.created → RESERVED, from what the stream carries.
  const nc = await connect({ servers: infra.natsUrl });
  const orderCreatedAt = new Map<string, number>();
  const reservedAfter: number[] = [];
  const reservedSeen = new Set<string>();
  const watch = nc.subscribe("ticketing.>", {
    callback: (_error, msg) => {
      const event = msg.json<{
        subject: string;
        occurredAt: string;
        data: { id: string; status?: string; orderId?: string };
      }>();
      if (event.subject === "ticketing.order.created")
        orderCreatedAt.set(event.data.id, Date.parse(event.occurredAt));
      if (
        event.subject === "ticketing.ticket.updated" &&
        event.data.status === "RESERVED" &&
        event.data.orderId
      ) {
        // A core subscriber also sees a re-publish the stream drops as a duplicate: first one counts.
        const created = orderCreatedAt.get(event.data.orderId);
        if (created !== undefined && !reservedSeen.has(event.data.orderId)) {
          reservedSeen.add(event.data.orderId);
          reservedAfter.push(Date.now() - created);
        }
      }
    },
  });

  console.log(
    `${buyerCount} buyers, ${ticketCount} tickets per run; ${cpus().length} cores, Node ${process.versions.node}\n`,
  );
  const rates: number[] = [];
  const p99s: number[] = [];
  const reservedP99s: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const event = await must(
      "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
      { i: { name: `Race ${run}`, venue: "Arena", city: "Lyon", startsAt: `203${run}-01-01T20:00:00Z` } },
      ops,
    );
    const eventId = event.body.data!.createEvent!.id;
    const tickets = await inBatches(ticketCount, 10, async (i) => {
      const listed = await must(
        "mutation($i: ListTicketInput!) { listTicket(input: $i) { id } }",
        { i: { eventId, title: `Seat ${i}`, price: { amount: 5_000 + i, currency: "EUR" } } },
        sellers[i % SELLERS],
      );
      return listed.body.data!.listTicket!.id;
    });
    // Orders learns of tickets from the stream: wait until it knows the last one listed.
    for (let attempt = 0; ; attempt++) {
      if (attempt > 300) throw new Error("orders never learnt of the tickets listed");
      const probe = await call(
        "mutation($t: ID!) { createOrder(ticketId: $t) { id } }",
        { t: tickets.at(-1) },
        sellers[(ticketCount - 1) % SELLERS],
      );
      if (probe.body.errors?.[0]?.extensions?.code === "BAD_USER_INPUT") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    reservedAfter.length = 0;
    const open = new Set(tickets);
    const taken = new Map<string, number>();
    const latencies: number[] = [];
    let failures = 0;
    let rateLimited = 0;
    const started = performance.now();
    await Promise.all(
      buyers.map(async (cookie) => {
        while (open.size > 0) {
          const choices = [...open];
          const ticketId = choices[Math.floor(Math.random() * choices.length)]!;
          const sent = performance.now();
          const reply = await call(
            "mutation($t: ID!) { createOrder(ticketId: $t) { id } }",
            { t: ticketId },
            cookie,
          );
          latencies.push(performance.now() - sent);
          const error = reply.body.errors?.[0];
          if (error?.extensions?.code === "RATE_LIMITED") {
            // An answer, not an attempt: the ticket stays open and is tried again after the wait.
            rateLimited++;
            await new Promise((r) => setTimeout(r, 1_000 * (error.extensions?.retryAfter ?? 1)));
            continue;
          }
          open.delete(ticketId);
          if (!error) {
            taken.set(ticketId, (taken.get(ticketId) ?? 0) + 1);
            return;
          }
          if (error.extensions?.code !== "CONFLICT") {
            if (failures++ === 0) console.log(`first unexpected error: ${JSON.stringify(reply.body.errors)}`);
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const sold = [...taken.values()];
    if (sold.some((count) => count > 1)) throw new Error("a ticket was reserved twice");
    // Let tickets catch up with the last reservations before reading the lag.
    const deadline = Date.now() + 30_000;
    while (reservedAfter.length < taken.size && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const latency = summarize(latencies);
    const reserved = summarize(reservedAfter);
    const perMinute = (taken.size / seconds) * 60;
    rates.push(perMinute);
    p99s.push(latency.p99);
    reservedP99s.push(reserved.p99);
    console.log(
      `run ${run}: ${taken.size} reserved by ${buyerCount} buyers in ${seconds.toFixed(2)} s (${Math.round(perMinute)}/min), ` +
        `${latency.n} createOrder calls p50 ${ms(latency.p50)} p99 ${ms(latency.p99)}, ${rateLimited} RATE_LIMITED (retried), ` +
        `${failures} unexpected errors; ` +
        `order.created → RESERVED p50 ${ms(reserved.p50)} p99 ${ms(reserved.p99)} (${reserved.n} seen)`,
    );
  }
  console.log(
    `median of ${runs} runs: ${Math.round(median(rates))} reservations/min, createOrder p99 ${ms(median(p99s))}, ` +
      `order.created → RESERVED p99 ${ms(median(reservedP99s))}`,
  );
  watch.unsubscribe();
  await nc.close();
  await services.stop();
});
