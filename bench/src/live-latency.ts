// Live latency: a change of an event's tickets (a new listing, or with `--change=update` a price
// edit of one ticket) → every subscriber of the event receiving it over the gateway's WebSocket,
// with 1,000 and 10,000 concurrent ticketChanged subscribers, anonymous, all selecting the same
// fields (seller from auth included), one subscription per connection as browsers open them
// (`--per-connection=100` packs them as the first version of this benchmark did). It reports
// change → receipt at each subscriber, the time until the last of them has it, deliveries still
// missing after a grace period, and the gateway's memory and CPU.
// Services run as their own processes; the subscribers run in worker threads of this one, so that
// one thread parsing 10,000 frames does not delay the receipts it timestamps.
//   npm run bench:live -w @ticketing/bench -- [changes per run = 20] [runs = 3] \
//     [--subscribers=1000,10000] [--per-connection=1] [--workers=2] [--grace=15] [--change=list]
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import WebSocket from "ws";
import { TICKET_CHANGES } from "./graph.js";
import { startServices } from "./services.js";
import { withPrivateStack } from "./stack.js";
import { ms, summarize } from "./stats.js";

/** What one worker thread runs: `connections` sockets with `perConnection` subscriptions each. */
interface ClientPlan {
  url: string;
  eventId: string;
  connections: number;
  perConnection: number;
  /** Handshakes in flight at a time. */
  batch: number;
}

type ToWorker = { type: "collect" } | { type: "close" };
type FromWorker =
  | { type: "subscribed" }
  /** Every subscription of the worker has received this change. */
  | { type: "received"; change: number }
  | {
      type: "receipts";
      subscriptions: number;
      /** change → receipt time (ms since the epoch) per subscription, 0 when never received */
      receipts: [number, Float64Array][];
      closes: [string, number][];
      errors: string[];
      /** The worker's own event-loop delay: high means the client, not the gateway, was late. */
      loopDelayMaxMs: number;
    };

/**
 * A worker runs this very file through tsx's API: Node 20 does not apply the loader tsx registered
 * in this thread to a worker's entry point.
 */
const workerBootstrap = `import("tsx/esm/api").then(({ tsImport }) => tsImport(${JSON.stringify(import.meta.url)}, ${JSON.stringify(import.meta.url)}))`;

/** Wall-clock milliseconds comparable across threads (each has its own performance.now origin). */
const now = () => performance.timeOrigin + performance.now();

async function runClients(plan: ClientPlan) {
  const port = parentPort!;
  const total = plan.connections * plan.perConnection;
  const receipts = new Map<number, Float64Array>();
  const counts = new Map<number, number>();
  const closes = new Map<string, number>();
  const errors: string[] = [];
  const sockets: WebSocket[] = [];
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  const post = (message: FromWorker) => port.postMessage(message);

  const record = (subscriber: number, change: number, at: number) => {
    let times = receipts.get(change);
    if (!times) receipts.set(change, (times = new Float64Array(total)));
    if (times[subscriber] !== 0) return;
    times[subscriber] = at;
    const count = (counts.get(change) ?? 0) + 1;
    counts.set(change, count);
    if (count === total) post({ type: "received", change });
  };

  const connect = (connection: number) =>
    new Promise<void>((resolve) => {
      const socket = new WebSocket(plan.url, "graphql-transport-ws");
      sockets.push(socket);
      socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init" })));
      socket.on("message", (raw: Buffer) => {
        const at = now();
        const message = JSON.parse(raw.toString()) as {
          id?: string;
          type: string;
          payload?: { data?: { ticketChanged?: { price: { amount: number } } }; errors?: unknown };
        };
        if (message.type === "connection_ack") {
          for (let s = 0; s < plan.perConnection; s++) {
            socket.send(
              JSON.stringify({
                id: String(s),
                type: "subscribe",
                payload: { query: TICKET_CHANGES, variables: { eventId: plan.eventId } },
              }),
            );
          }
          resolve();
          return;
        }
        // Each change sets a price of its own: 1,000 + its number.
        const amount = message.payload?.data?.ticketChanged?.price.amount;
        if (message.type === "next" && amount !== undefined) {
          record(connection * plan.perConnection + Number(message.id), amount - 1_000, at);
        } else {
          errors.push(JSON.stringify(message));
        }
      });
      socket.on("error", (error) => errors.push(error.message));
      socket.on("close", (code, reason) => {
        const key = `${code} ${reason.toString() || "(no reason)"}`;
        closes.set(key, (closes.get(key) ?? 0) + 1);
        resolve();
      });
    });

  for (let first = 0; first < plan.connections; first += plan.batch) {
    const last = Math.min(plan.connections, first + plan.batch);
    await Promise.all(Array.from({ length: last - first }, (_, i) => connect(first + i)));
  }
  loopDelay.enable();
  post({ type: "subscribed" });

  port.on("message", (message: ToWorker) => {
    if (message.type === "collect") {
      loopDelay.disable();
      post({
        type: "receipts",
        subscriptions: total,
        receipts: [...receipts],
        closes: [...closes],
        errors: errors.slice(0, 20),
        loopDelayMaxMs: loopDelay.max / 1e6,
      });
    } else {
      for (const socket of sockets) socket.terminate();
      port.close();
    }
  });
}

if (!isMainThread) {
  await runClients(workerData as ClientPlan);
} else {
  await main();
}

async function main() {
  const FLAGS = ["subscribers", "per-connection", "workers", "grace", "change", "batch"] as const;
  const positional = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
  const flags = new Map(
    process.argv
      .slice(2)
      .filter((arg) => arg.startsWith("--"))
      .map((arg) => {
        const [name = "", value = ""] = arg.slice(2).split("=");
        if (!(FLAGS as readonly string[]).includes(name)) throw new Error(`unknown option --${name}`);
        return [name, value] as const;
      }),
  );
  const changes = Number(positional[0] ?? 20);
  const runs = Number(positional[1] ?? 3);
  const sizes = (flags.get("subscribers") ?? "1000,10000").split(",").map(Number);
  const perConnection = Number(flags.get("per-connection") ?? 1);
  const workers = Number(flags.get("workers") ?? 2);
  const graceMs = Number(flags.get("grace") ?? 15) * 1_000;
  const listing = (flags.get("change") ?? "list") === "list";
  const batch = Number(flags.get("batch") ?? 200);
  /** How long one change may take to reach everyone before the next is made anyway. */
  const changeDeadlineMs = 5_000;

  const rssMb = (pid: number) => {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m);
    return line ? Number(line[1]) / 1024 : NaN;
  };
  /** CPU seconds the process has used, in user space and in the kernel (clock ticks of 10 ms). */
  const cpuSeconds = (pid: number) => {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
  };
  const load = () =>
    loadavg()
      .map((value) => value.toFixed(2))
      .join(" ");

  await withPrivateStack(async (infra) => {
    const services = await startServices(infra, ["auth", "tickets"], {
      OPS_EMAILS: "ops@example.com",
      LIVE_SUBSCRIPTIONS_PER_CONNECTION: String(Math.max(perConnection, 25)),
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

    console.log(
      `${cpus().length} cores, Node ${process.versions.node}; ${changes} ${listing ? "listings" : "price edits"} per run, ${runs} runs; ` +
        `${perConnection} subscription(s) per connection; clients on ${workers} worker threads`,
    );
    const idleRss = rssMb(gatewayPid);
    console.log(`gateway RSS with no subscriber: ${idleRss.toFixed(0)} MB; load average ${load()}\n`);

    for (const subscribers of sizes) {
      const eventId = (
        await call(
          "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
          {
            i: { name: `Live ${subscribers}`, venue: "Hall", city: "Lyon", startsAt: "2032-01-01T20:00:00Z" },
          },
          ops,
        )
      ).data.createEvent!.id;
      const list = async (change: number) =>
        (
          await call(
            "mutation($i: ListTicketInput!) { listTicket(input: $i) { id } }",
            { i: { eventId, title: "Seat", price: { amount: 1_000 + change, currency: "EUR" } } },
            seller,
          )
        ).data.listTicket!.id;
      // The ticket whose price the edits change (change 0, before anyone subscribes).
      const ticketId = await list(0);
      const makeChange = async (change: number) => {
        if (listing) return list(change);
        return call(
          "mutation($id: ID!, $i: UpdateTicketInput!) { updateTicket(id: $id, input: $i) { id } }",
          { id: ticketId, i: { price: { amount: 1_000 + change, currency: "EUR" } } },
          seller,
        );
      };

      // The clients, spread over the workers.
      const opened = now();
      const cpuOpening = cpuSeconds(gatewayPid);
      const connections = Math.ceil(subscribers / perConnection);
      const threads = Math.min(workers, connections);
      const received = new Map<number, number>(); // change → workers that have it everywhere
      const waiters = new Set<() => void>();
      const pool = Array.from({ length: threads }, (_, w) => {
        const share = Math.floor(connections / threads) + (w < connections % threads ? 1 : 0);
        const plan: ClientPlan = {
          url: graph.replace(/^http/, "ws"),
          eventId,
          connections: share,
          perConnection,
          batch,
        };
        const worker = new Worker(workerBootstrap, { eval: true, workerData: plan });
        worker.on("message", (message: FromWorker) => {
          if (message.type === "received") {
            received.set(message.change, (received.get(message.change) ?? 0) + 1);
            for (const wake of waiters) wake();
          }
        });
        worker.on("error", (error) => {
          throw error;
        });
        return worker;
      });
      const next = <T extends FromWorker["type"]>(worker: Worker, type: T) =>
        new Promise<Extract<FromWorker, { type: T }>>((resolve) => {
          const listener = (message: FromWorker) => {
            if (message.type !== type) return;
            worker.off("message", listener);
            resolve(message as Extract<FromWorker, { type: T }>);
          };
          worker.on("message", listener);
        });
      /** Resolves once every worker has the change everywhere, or after `withinMs`. */
      const everyone = (change: number, withinMs: number) =>
        new Promise<void>((resolve) => {
          const done = () => {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          };
          const check = () => {
            if ((received.get(change) ?? 0) >= threads) done();
          };
          const timer = setTimeout(done, withinMs);
          waiters.add(check);
          check();
        });

      await Promise.all(pool.map((worker) => next(worker, "subscribed")));
      const cpuOpened = cpuSeconds(gatewayPid);
      console.log(
        `${subscribers} subscribers on ${connections} connections: connected in ${((now() - opened) / 1_000).toFixed(1)} s, ` +
          `gateway CPU ${(cpuOpened.user + cpuOpened.system - cpuOpening.user - cpuOpening.system).toFixed(1)} s`,
      );

      // A first change, not measured: every subscription must be live before measuring.
      let change = 1;
      const first = now();
      await makeChange(change);
      await everyone(change, 60_000);
      console.log(
        (received.get(change) ?? 0) < threads
          ? "  the first change did not reach everyone in 60 s"
          : `  the first change reached everyone in ${ms(now() - first)}`,
      );

      let peakRss = rssMb(gatewayPid);
      const subscribedRss = peakRss;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(gatewayPid))), 100);
      const cpuBefore = cpuSeconds(gatewayPid);
      const sent = new Map<number, number>();
      const runOf = new Map<number, number>();
      for (let run = 1; run <= runs; run++) {
        for (let c = 0; c < changes; c++) {
          change++;
          sent.set(change, now());
          runOf.set(change, run);
          await makeChange(change);
          await everyone(change, changeDeadlineMs);
        }
      }
      const cpuAfter = cpuSeconds(gatewayPid);
      const cpuUser = cpuAfter.user - cpuBefore.user;
      const cpuSystem = cpuAfter.system - cpuBefore.system;
      // Whatever is still on its way has the grace period to arrive.
      await everyone(change, graceMs);
      clearInterval(sampler);

      const reports = await Promise.all(
        pool.map((worker) => {
          const report = next(worker, "receipts");
          worker.postMessage({ type: "collect" } satisfies ToWorker);
          return report;
        }),
      );
      for (const worker of pool) worker.postMessage({ type: "close" } satisfies ToWorker);

      const latencies = new Map<number, number[]>(); // run → change → receipt, of every receipt
      const lastOfN = new Map<number, number[]>(); // run → change → the last receipt, per change
      // The first receipt of a change: the way to the gateway and through the graph, before the
      // fan-out spreads it over the sockets.
      const firstOfN: number[] = [];
      let missing = 0;
      let superseded = 0;
      for (const [measured, sentAt] of sent) {
        const run = runOf.get(measured)!;
        const samples = latencies.get(run) ?? [];
        latencies.set(run, samples);
        let last = 0;
        let first = Infinity;
        for (const report of reports) {
          const byChange = new Map(report.receipts);
          const times = byChange.get(measured);
          for (let s = 0; s < report.subscriptions; s++) {
            const at = times?.[s] ?? 0;
            if (at > 0) {
              samples.push(at - sentAt);
              last = Math.max(last, at - sentAt);
              first = Math.min(first, at - sentAt);
              continue;
            }
            missing++;
            // A price edit missing where a later edit of the same ticket arrived: replaced while
            // pending (a subscriber keeps only the newest pending change of a ticket).
            for (let later = measured + 1; !listing && later <= change; later++) {
              if ((byChange.get(later)?.[s] ?? 0) > 0) {
                superseded++;
                break;
              }
            }
          }
        }
        lastOfN.set(run, [...(lastOfN.get(run) ?? []), last]);
        if (first < Infinity) firstOfN.push(first);
      }
      for (let run = 1; run <= runs; run++) {
        const s = summarize(latencies.get(run) ?? []);
        const l = summarize(lastOfN.get(run) ?? []);
        console.log(
          `  run ${run}: p50 ${ms(s.p50)} p99 ${ms(s.p99)} max ${ms(s.max)} over ${s.n} receipts; last of ${subscribers} p50 ${ms(l.p50)} p99 ${ms(l.p99)}`,
        );
      }
      const all = summarize([...latencies.values()].flat());
      const lasts = summarize([...lastOfN.values()].flat());
      const firsts = summarize(firstOfN);
      const closes = new Map<string, number>();
      for (const report of reports) {
        for (const [reason, count] of report.closes) closes.set(reason, (closes.get(reason) ?? 0) + count);
      }
      const errors = reports.flatMap((report) => report.errors);
      console.log(
        `${subscribers} subscribers: p50 ${ms(all.p50)}, p99 ${ms(all.p99)}; last of ${subscribers}: p50 ${ms(lasts.p50)}, p99 ${ms(lasts.p99)} over ${lasts.n} changes ` +
          `(the first of them has it after ${ms(firsts.p50)}, p50)\n` +
          `  missing ${graceMs / 1_000} s after the last change: ${missing} of ${sent.size * subscribers}` +
          (superseded ? ` (${superseded} of them replaced by a later version of the ticket)` : "") +
          `; connections closed: ${closes.size ? [...closes].map(([reason, count]) => `${count} × ${reason}`).join(", ") : "none"}\n` +
          `  gateway RSS ${subscribedRss.toFixed(0)} MB subscribed, ${peakRss.toFixed(0)} MB at most (${(peakRss - idleRss).toFixed(0)} MB over idle); ` +
          `gateway CPU for ${sent.size} changes ${(cpuUser + cpuSystem).toFixed(1)} s (${cpuSystem.toFixed(1)} s in the kernel); ` +
          `client event-loop delay at most ` +
          `${Math.max(...reports.map((report) => report.loopDelayMaxMs)).toFixed(0)} ms; load average ${load()}` +
          (errors.length ? `\n  client errors: ${errors.slice(0, 5).join(" | ")}` : "") +
          "\n",
      );
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    await services.stop();
  });
}
