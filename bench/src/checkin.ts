// A stadium gate rush: scanners check passes in through the gateway, each request a different
// pass's live code, so every scan is an admission (an insert). Passes are seeded through the stream
// (ticket.created, order.created, order.completed, as tickets and orders publish them) and issued
// by the passes service itself; their holder reads the codes with myPasses. Two runs: scans
// arriving at `rate` a second whatever the answers (fans reaching the gates: the goal, >= 200/s
// with p99 < 100 ms, is read here), then `clients` closed-loop scanners as fast as they are
// answered (the most the system admits). Checks afterwards that each pass was admitted once.
//   npm run bench:checkin -w @ticketing/bench -- [passes = 5000] [clients = 32] [seconds = 8] [rate = 200]
import { randomUUID } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { connect } from "@nats-io/transport-node";
import { createPublisher, ensureStreams } from "@ticketing/shared-events";
import { runLoad } from "./load.js";
import { mintSessions } from "./sessions.js";
import { startServices } from "./services.js";
import { withPrivateStack } from "./stack.js";
import { ms, summarize } from "./stats.js";

const passCount = Number(process.argv[2] ?? 5_000);
const clients = Number(process.argv[3] ?? 32);
const seconds = Number(process.argv[4] ?? 8);
const rate = Number(process.argv[5] ?? 200);

const CHECK_IN = `mutation CheckIn($eventId: ID!, $code: String!) {
  checkIn(eventId: $eventId, code: $code) { admitted refusal }
}`;
const MY_PASSES = `query { myPasses { id status code } }`;

interface PassNode {
  id: string;
  status: string;
  code: string | null;
}

await withPrivateStack(async (infra) => {
  const services = await startServices(infra, ["auth", "passes"]);
  const graph = `${services.origin}/graphql`;
  const holderId = randomUUID();
  const [holder] = await mintSessions(infra.mongoUrl, [holderId]);
  const [scanner] = await mintSessions(infra.mongoUrl, 1, ["USER", "STAFF"]);
  if (!holder || !scanner) throw new Error("no sessions");
  const myPasses = async () => {
    const response = await fetch(graph, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: holder },
      body: JSON.stringify({ query: MY_PASSES }),
    });
    const body = (await response.json()) as { data?: { myPasses: PassNode[] }; errors?: unknown };
    if (!body.data) throw new Error(JSON.stringify(body.errors));
    return body.data.myPasses;
  };

  // What tickets and orders would have published for `passCount` purchases by one holder.
  const nc = await connect({ servers: infra.natsUrl });
  await ensureStreams(nc);
  const publisher = createPublisher(nc);
  const eventId = randomUUID();
  const seeded = performance.now();
  for (let start = 0; start < passCount; start += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, passCount - start) }, async (_, i) => {
        const ticketId = randomUUID();
        const orderId = randomUUID();
        const now = new Date().toISOString();
        await publisher.publish(
          "ticketing.ticket.created",
          {
            id: ticketId,
            eventId,
            sellerId: randomUUID(),
            title: `Block ${start + i}`,
            section: null,
            price: { amount: 5_000, currency: "EUR" },
            status: "AVAILABLE",
            orderId: null,
            version: 1,
          },
          { aggregateId: ticketId, version: 1 },
        );
        await publisher.publish(
          "ticketing.order.created",
          {
            id: orderId,
            ticketId,
            buyerId: holderId,
            sellerId: randomUUID(),
            total: { amount: 5_000, currency: "EUR" },
            createdAt: now,
            expiresAt: now,
          },
          { aggregateId: orderId, version: 1 },
        );
        await publisher.publish(
          "ticketing.order.completed",
          { id: orderId, ticketId, paymentId: randomUUID() },
          { aggregateId: orderId, version: 2 },
        );
      }),
    );
  }
  const deadline = Date.now() + 300_000;
  let passes = await myPasses();
  for (; passes.length < passCount; passes = await myPasses()) {
    if (Date.now() > deadline) throw new Error(`only ${passes.length} of ${passCount} passes were issued`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  console.log(`${passCount} passes issued in ${((performance.now() - seeded) / 1_000).toFixed(1)} s`);

  // Codes live for 30 to 60 s (30 s steps, one either side): read just before the rush.
  const codes = passes.map((pass) => pass.code!);
  console.log(
    `load average before the run: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} on ${cpus().length} cores`,
  );
  // Each run scans passes the other did not; scans beyond the passes are repeats (refused).
  const bodies = codes.map((code) => ({ query: CHECK_IN, variables: { eventId, code } }));
  const half = Math.floor(bodies.length / 2);
  const runs = [
    { name: `${rate} scans/s arriving`, load: { rate, clients: 0, bodies: bodies.slice(0, half) } },
    { name: `${clients} scanners as fast as answered`, load: { clients, bodies: bodies.slice(half) } },
  ];
  let answered = 0;
  let dropped = 0;
  let failed = 0;
  let goal = "";
  for (const [index, run] of runs.entries()) {
    const result = await runLoad({ url: graph, headers: { cookie: scanner }, seconds, ...run.load });
    const s = summarize(result.samples);
    // An open loop's elapsed time includes waiting for its last answers: its rate is the one set.
    const perSecond = index === 0 ? rate : s.n / result.elapsed;
    answered += Math.min(s.n, run.load.bodies.length);
    dropped += result.unfinished;
    failed += result.failures;
    console.log(
      `${run.name}, ${result.elapsed.toFixed(1)} s: ${s.n} scans answered (${perSecond.toFixed(0)}/s), ` +
        `${result.failures} failed, ${result.unfinished} unfinished; p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, max ${ms(s.max)}` +
        (s.n > run.load.bodies.length
          ? `; ${s.n - run.load.bodies.length} repeats, refused as already checked in`
          : ""),
    );
    if (result.firstFailure) console.log(`first failure: ${result.firstFailure}`);
    if (index === 0) {
      // Where the slow ones were: each second's p99, to tell a steady queue from a passing stall.
      const bySecond = new Map<number, number[]>();
      result.dueAt.forEach((due, i) => {
        const second = Math.floor(due / 1_000);
        bySecond.set(second, [...(bySecond.get(second) ?? []), result.samples[i]!]);
      });
      const p99s = [...bySecond.entries()]
        .sort(([a], [b]) => a - b)
        .map(([, samples]) => summarize(samples).p99.toFixed(0));
      console.log(`  p99 by second of the run: ${p99s.join(" ")} ms`);
      const sustained = result.failures === 0 && s.n >= rate * seconds * 0.99;
      goal = `goal: >= 200 scans/s ${sustained && rate >= 200 ? "met" : "MISSED"}; p99 < 100 ms ${s.p99 < 100 ? "met" : "MISSED"}`;
    }
  }

  // Scans still in flight when the run ended were dropped uncounted, but may have been admitted.
  // myPasses reads the projections, written in batches behind the log: read until two agree.
  const countCheckedIn = async () => (await myPasses()).filter((pass) => pass.status === "CHECKED_IN").length;
  let checkedIn = await countCheckedIn();
  for (let previous = -1; checkedIn !== previous;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    [previous, checkedIn] = [checkedIn, await countCheckedIn()];
  }
  console.log(
    `${checkedIn} passes checked in, for ${answered} answered first scans ` +
      `(+${dropped} dropped in flight, ${failed} failed: either may have been admitted)`,
  );
  console.log(goal);
  await nc.close();
  await services.stop();
  if (checkedIn < answered || checkedIn > answered + dropped + failed) process.exitCode = 1;
});
