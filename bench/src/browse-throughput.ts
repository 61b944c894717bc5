// Browse throughput through the gateway: the contract's Event query for an event with 20
// tickets and their sellers (tickets + auth), from concurrent clients, on private servers. The
// gateway and subgraphs run as their own processes, as `npm start` runs them; the clients run in
// a worker thread.
//   npm run bench:browse -w @ticketing/bench -- [clients = 50] [seconds per run = 10] [runs = 3]
import { cpus } from "node:os";
import { runLoad } from "./load.js";
import { startServices } from "./services.js";
import { withPrivateStack } from "./stack.js";
import { median, ms, summarize } from "./stats.js";

const clients = Number(process.argv[2] ?? 50);
const seconds = Number(process.argv[3] ?? 10);
const runs = Number(process.argv[4] ?? 3);
const EVENT_QUERY = `query Event($id: ID!, $first: Int, $after: String) {
  event(id: $id) {
    id name venue city startsAt category availableTickets
    tickets(first: $first, after: $after) {
      edges { cursor node { id title section status version price { amount currency } seller { id displayName } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

await withPrivateStack(async (infra) => {
  const services = await startServices(infra, ["auth", "tickets"], { OPS_EMAILS: "ops@example.com" });
  const graph = `${services.origin}/graphql`;

  async function call(query: string, variables: Record<string, unknown>, cookie?: string) {
    const response = await fetch(graph, {
      method: "POST",
      headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: Record<string, { id: string }>; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return {
      body,
      cookie: response.headers
        .getSetCookie()
        .find((c) => c.startsWith("session="))
        ?.split(";")[0],
    };
  }
  const signUp = (email: string, displayName: string) =>
    call("mutation($i: SignUpInput!) { signUp(input: $i) { id } }", {
      i: { email, password: "correct horse battery", displayName },
    });

  const ops = await signUp("ops@example.com", "Ops");
  const event = await call(
    "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
    { i: { name: "Bench Night", venue: "Arena", city: "Lyon", startsAt: "2031-01-01T20:00:00Z" } },
    ops.cookie,
  );
  const eventId = event.body.data!.createEvent!.id;
  for (let s = 0; s < 5; s++) {
    const seller = await signUp(`seller${s}@example.com`, `Seller ${s}`);
    for (let t = 0; t < 4; t++) {
      await call(
        "mutation($i: ListTicketInput!) { listTicket(input: $i) { id } }",
        {
          i: {
            eventId,
            title: `Seat ${s}-${t}`,
            section: "A",
            price: { amount: 1_000 + t, currency: "EUR" },
          },
        },
        seller.cookie,
      );
    }
  }
  const check = await call(EVENT_QUERY, { id: eventId, first: 20 });
  const edges = (check.body.data!.event as unknown as { tickets: { edges: unknown[] } }).tickets.edges;
  if (edges.length !== 20) throw new Error(`expected 20 tickets, got ${edges.length}`);

  console.log(
    `Event with 20 tickets and 5 sellers; ${clients} clients; ${seconds} s per run; ${cpus().length} cores, Node ${process.versions.node}\n`,
  );
  const rates: number[] = [];
  const p99s: number[] = [];
  await runLoad({
    url: graph,
    body: { query: EVENT_QUERY, variables: { id: eventId, first: 20 } },
    clients,
    seconds: 2,
  });
  for (let run = 1; run <= runs; run++) {
    const { samples, failures } = await runLoad({
      url: graph,
      body: { query: EVENT_QUERY, variables: { id: eventId, first: 20 } },
      clients,
      seconds,
    });
    const s = summarize(samples);
    const rate = s.n / seconds;
    rates.push(rate);
    p99s.push(s.p99);
    console.log(
      `run ${run}: ${Math.round(rate)} requests/s, p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, ${failures} failed`,
    );
  }
  console.log(`median of ${runs} runs: ${Math.round(median(rates))} requests/s, p99 ${ms(median(p99s))}`);

  await services.stop();
});
