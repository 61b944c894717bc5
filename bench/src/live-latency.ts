// Live latency: a ticket's change → every subscriber of its event receiving it over the gateway's
// WebSocket, with 1,000 and 10,000 concurrent ticketChanged subscribers (100 per connection,
// anonymous, all selecting the same fields, seller from auth included), and the gateway's memory.
// Services run as their own processes; the subscribers run in this one.
//   npm run bench:live -w @ticketing/bench -- [changes per run = 20] [runs = 3]
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import WebSocket from "ws";
import { startServices } from "./services.js";
import { withPrivateStack } from "./stack.js";
import { median, ms, summarize } from "./stats.js";

const changes = Number(process.argv[2] ?? 20);
const runs = Number(process.argv[3] ?? 3);
const PER_CONNECTION = 100;
const SUBSCRIPTION = `subscription($eventId: ID!) {
  ticketChanged(eventId: $eventId) { id status version price { amount currency } seller { id displayName } }
}`;

const rssMb = (pid: number) => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m);
  return line ? Number(line[1]) / 1024 : NaN;
};

await withPrivateStack(async (infra) => {
  const services = await startServices(infra, ["auth", "tickets"], {
    OPS_EMAILS: "ops@example.com",
    LIVE_SUBSCRIPTIONS_PER_CONNECTION: String(PER_CONNECTION),
    LIVE_SUBSCRIPTIONS_PER_CLIENT: "1000000",
  });
  const graph = `${services.origin}/graphql`;
  const gatewayPid = services.pids.gateway!;

  async function call(query: string, variables: Record<string, unknown>, cookie?: string) {
    const response = await fetch(graph, {
      method: "POST",
      headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: Record<string, { id: string }>; errors?: unknown[] };
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    const session = response.headers
      .getSetCookie()
      .find((c) => c.startsWith("session="))
      ?.split(";")[0];
    return { data: body.data!, cookie: session };
  }
  const signUp = (email: string) =>
    call("mutation($i: SignUpInput!) { signUp(input: $i) { id } }", {
      i: { email, password: "correct horse battery", displayName: email.split("@")[0] },
    }).then((reply) => reply.cookie!);
  const ops = await signUp("ops@example.com");
  const seller = await signUp("seller@example.com");

  console.log(`${cpus().length} cores, Node ${process.versions.node}; ${changes} changes per run\n`);
  const idleRss = rssMb(gatewayPid);
  console.log(`gateway RSS with no subscriber: ${idleRss.toFixed(0)} MB`);

  for (const subscribers of [1_000, 10_000]) {
    const eventId = (
      await call(
        "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
        { i: { name: `Live ${subscribers}`, venue: "Hall", city: "Lyon", startsAt: "2032-01-01T20:00:00Z" } },
        ops,
      )
    ).data.createEvent!.id;
    const ticketId = (
      await call(
        "mutation($i: ListTicketInput!) { listTicket(input: $i) { id } }",
        { i: { eventId, title: "Seat", price: { amount: 1_000, currency: "EUR" } } },
        seller,
      )
    ).data.listTicket!.id;

    // version → receipt times, one per subscriber
    const received = new Map<number, number[]>();
    const sockets: WebSocket[] = [];
    let subscribed = 0;
    for (let c = 0; c < subscribers / PER_CONNECTION; c++) {
      const socket = new WebSocket(graph.replace(/^http/, "ws"), "graphql-transport-ws");
      sockets.push(socket);
      socket.on("message", (raw: Buffer) => {
        const message = JSON.parse(raw.toString()) as {
          type: string;
          payload?: { data?: { ticketChanged?: { version: number } }; errors?: unknown };
        };
        if (message.type === "connection_ack") {
          for (let s = 0; s < PER_CONNECTION; s++) {
            socket.send(
              JSON.stringify({
                id: String(s),
                type: "subscribe",
                payload: { query: SUBSCRIPTION, variables: { eventId } },
              }),
            );
          }
          subscribed += PER_CONNECTION;
        }
        const version = message.payload?.data?.ticketChanged?.version;
        if (version !== undefined) {
          const times = received.get(version) ?? [];
          times.push(performance.now());
          received.set(version, times);
        }
        if (message.type === "error") throw new Error(JSON.stringify(message.payload));
      });
      await new Promise((resolve) => socket.once("open", resolve));
      socket.send(JSON.stringify({ type: "connection_init" }));
    }
    while (subscribed < subscribers) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const rss = rssMb(gatewayPid);

    const p50s: number[] = [];
    const p99s: number[] = [];
    let version = 1;
    for (let run = 1; run <= runs; run++) {
      const latencies: number[] = [];
      let missing = 0;
      for (let change = 0; change < changes; change++) {
        version++;
        const sent = performance.now();
        await call(
          "mutation($id: ID!, $i: UpdateTicketInput!) { updateTicket(id: $id, input: $i) { id } }",
          { id: ticketId, i: { price: { amount: 1_000 + version, currency: "EUR" } } },
          seller,
        );
        const deadline = Date.now() + 30_000;
        while ((received.get(version)?.length ?? 0) < subscribers && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        const times = received.get(version) ?? [];
        missing += subscribers - times.length;
        latencies.push(...times.map((time) => time - sent));
      }
      const s = summarize(latencies);
      p50s.push(s.p50);
      p99s.push(s.p99);
      console.log(
        `${subscribers} subscribers, run ${run}: p50 ${ms(s.p50)} p99 ${ms(s.p99)} max ${ms(s.max)} over ${s.n} deliveries, ${missing} missing`,
      );
    }
    console.log(
      `${subscribers} subscribers: median p50 ${ms(median(p50s))}, p99 ${ms(median(p99s))}; gateway RSS ${rss.toFixed(0)} MB (${(rss - idleRss).toFixed(0)} MB over idle)\n`,
    );
    for (const socket of sockets) socket.terminate();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  await services.stop();
});
