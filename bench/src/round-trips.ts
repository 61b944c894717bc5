// Database round trips per reservation: every command each service sends to the MongoDB-wire
// server, counted by a relay in front of it (wire-counter.ts), while `reservations` buyers each
// reserve a ticket of their own through the gateway (no contention), and then as many buyers try
// tickets already reserved (each loses with CONFLICT). Counted from just before the first order
// until every ticket shows RESERVED and the batches behind the commits have been written.
// Orders' sweeper is off (ORDER_SWEEP_SECONDS=3600) so that only the reservations are counted.
//   npm run bench:round-trips -w @ticketing/bench -- [reservations = 100]
import { mintSessions } from "./sessions.js";
import { startServices } from "./services.js";
import { withPrivateStack } from "./stack.js";
import { median, ms } from "./stats.js";
import { startWireCounter } from "./wire-counter.js";

const reservations = Number(process.argv[2] ?? 100);
const SELLERS = 10;
const QUIET_MS = 3_000;

interface Reply {
  data?: Record<string, { id: string; status?: string } | null> | null;
  errors?: { extensions?: { code?: string } }[];
}

await withPrivateStack(async (infra) => {
  const counter = await startWireCounter(infra.mongoUrl);
  const services = await startServices({ ...infra, mongoUrl: counter.url }, ["auth", "tickets", "orders"], {
    ORDER_HOLD_SECONDS: "900",
    ORDER_SWEEP_SECONDS: "3600",
  });
  try {
    const graph = `${services.origin}/graphql`;
    const call = async (query: string, variables: Record<string, unknown>, cookie: string) => {
      const response = await fetch(graph, {
        method: "POST",
        headers: { "content-type": "application/json", cookie },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as Reply;
    };
    const must = async (query: string, variables: Record<string, unknown>, cookie: string) => {
      const reply = await call(query, variables, cookie);
      if (reply.errors) throw new Error(JSON.stringify(reply.errors));
      return reply.data!;
    };
    const [ops] = await mintSessions(infra.mongoUrl, 1, ["OPS"]);
    const sellers = await mintSessions(infra.mongoUrl, SELLERS);
    const buyers = await mintSessions(infra.mongoUrl, reservations * 2);
    const eventId = (
      await must(
        "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
        { i: { name: "Round trips", venue: "Hall", city: "Lyon", startsAt: "2032-01-01T20:00:00Z" } },
        ops!,
      )
    ).createEvent!.id;
    const tickets: string[] = [];
    for (let i = 0; i < reservations; i++) {
      const listed = await must(
        "mutation($i: ListTicketInput!) { listTicket(input: $i) { id } }",
        { i: { eventId, title: `Seat ${i}`, price: { amount: 1_000 + i, currency: "EUR" } } },
        sellers[i % SELLERS]!,
      );
      tickets.push(listed.listTicket!.id);
    }
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));

    const createOrder = (ticketId: string, buyer: string) =>
      call("mutation($t: ID!) { createOrder(ticketId: $t) { id } }", { t: ticketId }, buyer);
    const statusOf = async (ticketId: string) =>
      (await must("query($id: ID!) { ticket(id: $id) { id status } }", { id: ticketId }, ops!)).ticket
        ?.status;

    /** Commands sent during `run` and until everything it started has settled, per database and command. */
    async function measure(run: () => Promise<void>) {
      const before = counter.snapshot();
      await run();
      await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
      const after = counter.snapshot();
      return new Map([...after].map(([key, value]) => [key, value - (before.get(key) ?? 0)] as const));
    }

    const latencies: number[] = [];
    const won = await measure(async () => {
      for (let start = 0; start < reservations; start += 10) {
        await Promise.all(
          tickets.slice(start, start + 10).map(async (ticketId, index) => {
            const began = performance.now();
            const reply = await createOrder(ticketId, buyers[start + index]!);
            latencies.push(performance.now() - began);
            if (reply.errors) throw new Error(JSON.stringify(reply.errors));
          }),
        );
      }
      for (const ticketId of tickets) {
        while ((await statusOf(ticketId)) !== "RESERVED")
          await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    const lost = await measure(async () => {
      for (let start = 0; start < reservations; start += 10) {
        await Promise.all(
          tickets.slice(start, start + 10).map(async (ticketId, index) => {
            const reply = await createOrder(ticketId, buyers[reservations + start + index]!);
            if (reply.errors?.[0]?.extensions?.code !== "CONFLICT") throw new Error(JSON.stringify(reply));
          }),
        );
      }
    });

    console.log(
      `${reservations} reservations, 10 at a time, each buyer a ticket of its own; then ${reservations} ` +
        `buyers of reserved tickets. createOrder p50 ${ms(median(latencies))}\n`,
    );
    const keys = [...new Set([...won.keys(), ...lost.keys()])].filter(
      (key) => (won.get(key) ?? 0) + (lost.get(key) ?? 0) > 0,
    );
    keys.sort();
    console.log("| database command | per reservation | per losing attempt |");
    console.log("| --- | --- | --- |");
    const per = (counts: Map<string, number>, key: string) =>
      ((counts.get(key) ?? 0) / reservations).toFixed(2);
    for (const key of keys) console.log(`| ${key} | ${per(won, key)} | ${per(lost, key)} |`);
    const total = (counts: Map<string, number>) =>
      ([...counts.values()].reduce((sum, value) => sum + value, 0) / reservations).toFixed(1);
    console.log(`| **all** | **${total(won)}** | **${total(lost)}** |`);
  } finally {
    await services.stop();
    await counter.close();
  }
});
