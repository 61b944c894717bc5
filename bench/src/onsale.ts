// An on-sale through the gateway, everything at once, each run on fresh services (their own
// processes, from dist/) over private servers: an event with `--tickets` tickets from the demo
// sellers; `--fans` anonymous fans, one graphql-transport-ws connection each, subscribed once to
// ticketChanged of the event; `--buyers` signed-in buyers racing for its tickets with createOrder;
// `--browsers` closed-loop clients reading the event page (the contract's Event query); and
// sellers listing `--listings` new tickets during the race, each probed by a buyer until orders
// takes orders on it. Fans and buyers run in worker threads (two cores: this process must not be
// what limits). Prints a table of the medians of `--runs` with the goal beside each figure, and
// the CPU each process used during the race and after it, until every fan had every change.
//   npm run bench:onsale -w @ticketing/bench -- [--fans=10000] [--buyers=1000] [--tickets=100]
//     [--browsers=50] [--listings=50] [--runs=3] [--fan-threads=2] [--buyer-threads=2] [--grace=15]
import { randomUUID } from "node:crypto";
import { cpus, loadavg } from "node:os";
import type { Worker } from "node:worker_threads";
import { connect } from "@nats-io/transport-node";
import type { InfraUrls } from "@ticketing/infra";
import { DEMO_SELLERS } from "@ticketing/shared-runtime";
import { must, post, type Reply } from "./graph.js";
import { runLoad } from "./load.js";
import type { BuyersData, BuyersMessage, BuyersResult } from "./onsale-buyers.js";
import type { FansCommand, FansData, FansMessage } from "./onsale-fans.js";
import { descendants, rssMb, sampleCpu, type CpuUse } from "./processes.js";
import { startServices } from "./services.js";
import { mintSessions } from "./sessions.js";
import { withPrivateStack } from "./stack.js";
import { median, ms, summarize } from "./stats.js";
import { now, startWorker } from "./threads.js";

const DEFAULTS = {
  fans: 10_000,
  buyers: 1_000,
  tickets: 100,
  browsers: 50,
  listings: 50,
  runs: 3,
  "fan-threads": 2,
  "buyer-threads": 2,
  grace: 15,
  /** 1: buyers open their connection with their first createOrder instead of with the event page. */
  "cold-buyers": 0,
};
type Option = keyof typeof DEFAULTS;
const options = { ...DEFAULTS };
for (const arg of process.argv.slice(2)) {
  const [name = "", value = ""] = arg.replace(/^--/, "").split("=");
  if (!(name in DEFAULTS) || !/^\d+$/.test(value)) throw new Error(`unknown option ${arg}`);
  options[name as Option] = Number(value);
}

/** Between the listings made during the race: 50 of them within 5 s, a race at the goal's pace. */
const LISTING_EVERY_MS = 100;
/** How long a change may take to become visible before it counts as never. */
const VISIBLE_WITHIN_MS = 10_000;
/** How long a prober goes on waiting out RATE_LIMITED answers before it gives up. */
const GIVE_UP_MS = 60_000;
/** The contract's Event query (web/src/graphql/operations/contract.graphql): the event page. */
const EVENT_QUERY = `query Event($id: ID!, $first: Int, $after: String) {
  event(id: $id) {
    id name venue city startsAt category availableTickets
    tickets(first: $first, after: $after) {
      edges { cursor node { id title section status version price { amount currency } seller { id displayName } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;
const LIST = "mutation($i: ListTicketInput!) { listTicket(input: $i) { id } }";
const CREATE_ORDER = "mutation($t: ID!) { createOrder(ticketId: $t) { id } }";

const count = (value: number) => Math.round(value).toLocaleString("en-US");
/** A latency, or a dash when nothing was answered to measure it. */
const duration = (value: number) => (Number.isNaN(value) ? "—" : ms(value));
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(" ");
const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));
const codeOf = (reply: { errors?: { extensions?: { code?: string } }[] }) =>
  reply.errors?.[0]?.extensions?.code ?? (reply.errors ? "UNCODED" : undefined);
function addCodes(into: Record<string, number>, from: Record<string, number>) {
  for (const [code, times] of Object.entries(from)) into[code] = (into[code] ?? 0) + times;
}

interface RunFigures {
  raceSeconds: number;
  attempts: number;
  attemptsPerMinute: number;
  createOrder: { p50: number; p99: number };
  reserved: { p50: number; p99: number; n: number; never: number };
  listing: { p50: number; p99: number; n: number; notFound: number; never: number; duringRace: number };
  fanOut: { p50: number; p99: number; max: number; changes: number; missing: number };
  gatewayRssMb: number;
  oversold: number;
  /** `unfinished`: requests still without an answer when the race ended. */
  browse: { rate: number; p99: number; failures: number; unfinished: number };
  /** Error codes seen anywhere, but CONFLICT (the race's expected answer) and RATE_LIMITED. */
  codes: Record<string, number>;
  rateLimited: number;
  conflicts: number;
  /** During the race, and after it until every fan had every change (or the grace ended). */
  cpu: { race: CpuUse[]; after: CpuUse[] };
}

/** Who took which ticket, from the answers: a ticket with two is oversold. */
function oversoldTickets(wins: string[]): number {
  const orders = new Map<string, number>();
  for (const ticketId of wins) orders.set(ticketId, (orders.get(ticketId) ?? 0) + 1);
  return [...orders.values()].filter((orderCount) => orderCount > 1).length;
}

/**
 * When each change of the event's tickets (ticket id and version), and each order.created, was
 * on the stream: the moment a core subscriber of this process received it.
 */
async function watchStream(natsUrl: string, eventId: string) {
  const nc = await connect({ servers: natsUrl });
  const changes = new Map<string, number>();
  /** What each change left the ticket as, to name the changes some fans never got. */
  const statuses = new Map<string, string>();
  const ordersCreated = new Map<string, number>();
  nc.subscribe("ticketing.>", {
    callback: (_error, msg) => {
      const at = now();
      const event = msg.json<{
        subject: string;
        data: { id: string; eventId?: string; version?: number; status?: string };
      }>();
      // A core subscriber also sees a re-publish the stream drops as a duplicate: the first counts.
      if (event.subject === "ticketing.order.created" && !ordersCreated.has(event.data.id)) {
        ordersCreated.set(event.data.id, at);
      }
      if (
        (event.subject === "ticketing.ticket.created" || event.subject === "ticketing.ticket.updated") &&
        event.data.eventId === eventId
      ) {
        const key = `${event.data.id}:${event.data.version}`;
        if (!changes.has(key)) {
          changes.set(key, at);
          statuses.set(key, `${event.subject.slice("ticketing.".length)} ${event.data.status}`);
        }
      }
    },
  });
  return { changes, statuses, ordersCreated, close: () => nc.close() };
}

/** The fans' worker threads, with their reports merged. */
async function startFans(graph: string, eventId: string) {
  const threads = Math.min(options["fan-threads"], options.fans);
  const workers: Worker[] = [];
  const subscribed: Promise<number>[] = [];
  for (let thread = 0; thread < threads; thread++) {
    const share = Math.floor(options.fans / threads) + (thread < options.fans % threads ? 1 : 0);
    const data: FansData = { url: graph.replace(/^http/, "ws"), eventId, count: share };
    const worker = startWorker(new URL("./onsale-fans.ts", import.meta.url), data);
    workers.push(worker);
    subscribed.push(
      new Promise((resolve, reject) => {
        worker.once("message", (message: FansMessage) =>
          resolve(message.type === "subscribed" ? message.connections : 0),
        );
        worker.once("error", reject);
      }),
    );
  }
  const connections = (await Promise.all(subscribed)).reduce((sum, n) => sum + n, 0);

  async function report() {
    const reports = await Promise.all(
      workers.map(
        (worker) =>
          new Promise<Extract<FansMessage, { type: "report" }>>((resolve) => {
            worker.once("message", resolve);
            worker.postMessage({ type: "report" } satisfies FansCommand);
          }),
      ),
    );
    const deliveries = new Map<string, { connections: number; last: number }>();
    const errors: Record<string, number> = {};
    let closed = 0;
    for (const one of reports) {
      for (const [ticketId, version, held, last] of one.deliveries) {
        const key = `${ticketId}:${version}`;
        const merged = deliveries.get(key) ?? { connections: 0, last: 0 };
        deliveries.set(key, { connections: merged.connections + held, last: Math.max(merged.last, last) });
      }
      addCodes(errors, one.errors);
      closed += one.closed;
    }
    return { deliveries, errors, closed };
  }
  const close = async () => {
    for (const worker of workers) worker.postMessage({ type: "close" } satisfies FansCommand);
    await Promise.all(workers.map((worker) => worker.terminate()));
  };
  return { connections, report, close };
}

/**
 * The buyers' worker threads, ready once each has loaded (so that every buyer starts at once);
 * `raced` settles once every createOrder is answered, `done` once the winners saw RESERVED too.
 */
async function startBuyers(graph: string, cookies: string[], ticketIds: string[], eventId: string) {
  const threads = Math.min(options["buyer-threads"], cookies.length);
  const channel = `onsale-${randomUUID()}`;
  const workers = Array.from({ length: threads }, (_, thread) => {
    const data: BuyersData = {
      url: graph,
      cookies: cookies.filter((_cookie, index) => index % threads === thread),
      ticketIds,
      channel,
      visibleWithinMs: VISIBLE_WITHIN_MS,
      page:
        options["cold-buyers"] === 1
          ? null
          : JSON.stringify({ query: EVENT_QUERY, variables: { id: eventId, first: 20 } }),
    };
    return startWorker(new URL("./onsale-buyers.ts", import.meta.url), data);
  });
  const progress = workers.map((worker) => {
    let ready!: () => void;
    let raced!: () => void;
    const readyPromise = new Promise<void>((resolve) => (ready = resolve));
    const racedPromise = new Promise<void>((resolve) => (raced = resolve));
    const done = new Promise<BuyersResult>((resolve, reject) => {
      worker.on("message", (message: BuyersMessage) => {
        if (message.type === "ready") ready();
        else if (message.type === "raced") raced();
        else resolve(message.result);
      });
      worker.once("error", reject);
    });
    return { ready: readyPromise, raced: racedPromise, done };
  });
  await Promise.race([
    Promise.all(progress.map((p) => p.ready)),
    // A thread that failed to load says so here rather than leaving the wait without an end.
    Promise.all(progress.map((p) => p.done)),
  ]);
  return {
    start: () => {
      for (const worker of workers) worker.postMessage("start");
    },
    raced: Promise.all(progress.map((p) => p.raced)),
    done: Promise.all(progress.map((p) => p.done)),
    stop: () => Promise.all(workers.map((worker) => worker.terminate())),
  };
}

/**
 * Sellers list a new ticket every LISTING_EVERY_MS, each on its own, so that the listings fall
 * within the race however slowly they are answered; after each listTicket answers, a buyer sends
 * createOrder on it back to back until orders no longer answers NOT_FOUND. The lag is the time
 * from listTicket's answer to the sending of the first createOrder orders did not refuse as
 * NOT_FOUND (it wins the ticket, which no racing buyer knows of).
 */
async function sampleListings(graph: string, eventId: string, sellers: string[], probers: string[]) {
  const lags: number[] = [];
  const wins: string[] = [];
  const codes: Record<string, number> = {};
  let notFound = 0;
  let never = 0;
  let rateLimited = 0;
  const listedAt: number[] = [];
  const failed = (what: string, error: unknown) =>
    addCodes(codes, { [`${what}: ${error instanceof Error ? error.message : String(error)}`]: 1 });
  /** A RATE_LIMITED answer is a legitimate one: it is counted, and waited out as told. */
  const waitOut = (reply: Reply) => {
    rateLimited++;
    return sleep(1_000 * (reply.errors?.[0]?.extensions?.retryAfter ?? 1));
  };
  const sample = async (prober: string, index: number) => {
    await sleep(index * LISTING_EVERY_MS);
    let listed: Reply<{ listTicket: { id: string } }> | void;
    for (;;) {
      listed = await post<{ listTicket: { id: string } }>(
        graph,
        LIST,
        { i: { eventId, title: `Late seat ${index + 1}`, price: { amount: 7_000, currency: "EUR" } } },
        sellers[index % sellers.length],
      ).catch((error: unknown) => failed("listTicket", error));
      if (!listed || codeOf(listed) !== "RATE_LIMITED") break;
      // The seller, too, lists again.
      await waitOut(listed);
    }
    if (!listed?.data) {
      if (listed) addCodes(codes, { [`listTicket: ${codeOf(listed)}`]: 1 });
      return;
    }
    const ticketId = listed.data.listTicket.id;
    const answered = now();
    listedAt.push(answered);
    // When the first createOrder after the last NOT_FOUND was sent: a RATE_LIMITED answer is no
    // NOT_FOUND either, so the lag ends at its sending when the next answer decides.
    let orderableFrom: number | undefined;
    for (;;) {
      const sent = now();
      // Told NOT_FOUND for too long: never orderable. Told only RATE_LIMITED since the last
      // NOT_FOUND, it may well be: the admission has not let the question through yet.
      if (sent - answered > (orderableFrom === undefined ? VISIBLE_WITHIN_MS : GIVE_UP_MS)) {
        if (orderableFrom === undefined) never++;
        else failed("createOrder", new Error("refused RATE_LIMITED until the prober gave up"));
        break;
      }
      const reply = await post<{ createOrder: { id: string } }>(
        graph,
        CREATE_ORDER,
        { t: ticketId },
        prober,
      ).catch((error: unknown) => failed("createOrder", error));
      if (!reply) continue;
      const code = codeOf(reply);
      if (code === "NOT_FOUND") {
        notFound++;
        orderableFrom = undefined;
        continue;
      }
      orderableFrom ??= sent;
      if (code === "RATE_LIMITED") {
        await waitOut(reply);
        continue;
      }
      lags.push(orderableFrom - answered);
      if (code) addCodes(codes, { [code]: 1 });
      else wins.push(ticketId);
      break;
    }
  };
  await Promise.all(probers.map(sample));
  return { lags, wins, codes, notFound, never, rateLimited, listedAt };
}

async function onsaleRun(infra: InfraUrls, run: number): Promise<RunFigures> {
  const services = await startServices(infra, ["auth", "tickets", "orders"], {
    ORDER_HOLD_SECONDS: "900",
    DEMO_ACCOUNTS: "on",
    // Every fan comes from this one address, as many fans behind one network would.
    LIVE_SUBSCRIPTIONS_PER_CLIENT: String(options.fans + 1_000),
  });
  // What to stop when the run ends, failed or not, last started first stopped.
  const started: (() => Promise<unknown>)[] = [() => services.stop()];
  try {
    const graph = `${services.origin}/graphql`;
    const [ops] = await mintSessions(infra.mongoUrl, [randomUUID()], ["USER", "OPS"]);
    const sellers = await mintSessions(
      infra.mongoUrl,
      DEMO_SELLERS.map((seller) => seller.id),
    );
    const { createEvent } = await must<{ createEvent: { id: string } }>(
      graph,
      "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
      { i: { name: `On sale ${run}`, venue: "Arena", city: "Lyon", startsAt: "2031-06-01T20:00:00Z" } },
      ops,
    );
    const eventId = createEvent.id;
    const tickets: { id: string; seller: string }[] = [];
    for (let start = 0; start < options.tickets; start += 10) {
      const batch = Array.from({ length: Math.min(10, options.tickets - start) }, async (_, offset) => {
        const index = start + offset;
        const seller = sellers[index % sellers.length]!;
        const listed = await must<{ listTicket: { id: string } }>(
          graph,
          LIST,
          { i: { eventId, title: `Seat ${index + 1}`, price: { amount: 5_000 + index, currency: "EUR" } } },
          seller,
        );
        return { id: listed.listTicket.id, seller };
      });
      tickets.push(...(await Promise.all(batch)));
    }
    // Orders learns of tickets from the stream: a seller ordering their own ticket is refused as
    // BAD_USER_INPUT once orders knows it (NOT_FOUND before). Tickets are listed in order.
    const last = tickets.at(-1)!;
    for (let attempt = 0; ; attempt++) {
      const probe = await post(graph, CREATE_ORDER, { t: last.id }, last.seller);
      if (codeOf(probe) === "BAD_USER_INPUT") break;
      if (attempt > 300) throw new Error("orders never learnt of the tickets listed");
      await sleep(100);
    }

    // The event page was read before the sale opened: the gateway has planned the query.
    const pageRead = performance.now();
    await must(graph, EVENT_QUERY, { id: eventId, first: 20 });
    console.log(`  run ${run}: the event page answered in ${duration(performance.now() - pageRead)}`);

    const stream = await watchStream(infra.natsUrl, eventId);
    started.push(stream.close);
    const opening = performance.now();
    const fans = await startFans(graph, eventId);
    started.push(fans.close);
    console.log(
      `  run ${run}: ${count(fans.connections)} fans subscribed in ${((performance.now() - opening) / 1000).toFixed(1)} s`,
    );
    // graphql-ws does not acknowledge a subscription: a first change, received by every fan,
    // shows they are all subscribed (and what a change costs with nothing else going on).
    const check = tickets[0]!;
    const checked = await must<{ updateTicket: { version: number } }>(
      graph,
      "mutation($id: ID!, $i: UpdateTicketInput!) { updateTicket(id: $id, input: $i) { version } }",
      { id: check.id, i: { price: { amount: 4_999, currency: "EUR" } } },
      check.seller,
    );
    const checkKey = `${check.id}:${checked.updateTicket.version}`;
    const checkDeadline = Date.now() + 60_000;
    let held = 0;
    while (Date.now() < checkDeadline) {
      held = (await fans.report()).deliveries.get(checkKey)?.connections ?? 0;
      if (held >= options.fans) break;
      await sleep(250);
    }
    const checkDelivered = (await fans.report()).deliveries.get(checkKey);
    const checkOnStream = stream.changes.get(checkKey);
    console.log(
      `  run ${run}: a first change reached ${count(held)} of ${count(options.fans)} fans` +
        (checkDelivered && checkOnStream
          ? `, the last ${duration(checkDelivered.last - checkOnStream)} after the stream`
          : ""),
    );

    const cookies = await mintSessions(infra.mongoUrl, options.buyers + options.listings);
    const buyers = await startBuyers(
      graph,
      cookies.slice(0, options.buyers),
      tickets.map((ticket) => ticket.id),
      eventId,
    );
    started.push(buyers.stop);

    // This process (every thread), the services, and the servers (not the small node processes
    // that reap each server, nor tsx's esbuild).
    const measured = [
      { pid: process.pid, name: "bench (this process)" },
      ...Object.entries(services.pids).map(([name, pid]) => ({ pid, name })),
      ...descendants(process.pid).filter((child) => !["node", "esbuild"].includes(child.name)),
    ];
    const cpu = sampleCpu(measured);
    let gatewayRss = rssMb(services.pids.gateway!);
    const rssTimer = setInterval(
      () => (gatewayRss = Math.max(gatewayRss, rssMb(services.pids.gateway!))),
      500,
    );
    const raceStart = now();
    buyers.start();
    const browse = runLoad({
      url: graph,
      bodies: [{ query: EVENT_QUERY, variables: { id: eventId, first: 20 } }],
      clients: options.browsers,
      seconds: 600,
      until: buyers.raced,
    });
    const listings = sampleListings(graph, eventId, sellers, cookies.slice(options.buyers));
    await buyers.raced;
    const raceEnd = now();
    const raceCpu = cpu.stop();
    const afterCpu = sampleCpu(measured);
    const [bought, browsed, listed] = await Promise.all([buyers.done, browse, listings]);

    // Every change since the race began, until each fan has it or the grace after the last is over.
    const since = () => [...stream.changes].filter(([, at]) => at >= raceStart);
    let delivered = await fans.report();
    const lastChange = () => Math.max(...since().map(([, at]) => at));
    while (now() < lastChange() + options.grace * 1_000) {
      if (since().every(([key]) => (delivered.deliveries.get(key)?.connections ?? 0) >= options.fans)) break;
      await sleep(500);
      delivered = await fans.report();
    }
    const cpuAfter = afterCpu.stop();
    clearInterval(rssTimer);
    gatewayRss = Math.max(gatewayRss, rssMb(services.pids.gateway!));
    const fanLags: number[] = [];
    let missing = 0;
    const incomplete: string[] = [];
    for (const [key, at] of since()) {
      const delivery = delivered.deliveries.get(key);
      missing += options.fans - (delivery?.connections ?? 0);
      if (delivery && delivery.connections >= options.fans) fanLags.push(delivery.last - at);
      else incomplete.push(`${key} (${stream.statuses.get(key)}) reached ${delivery?.connections ?? 0}`);
    }
    if (incomplete.length > 0) {
      console.log(`  run ${run}: changes not every fan got: ${incomplete.slice(0, 5).join("; ")}`);
    }

    const latencies = bought.flatMap((result) => result.latencies);
    const firstSent = Math.min(...bought.map((result) => result.firstSent));
    const lastAnswered = Math.max(...bought.map((result) => result.lastAnswered));
    const raceSeconds = (lastAnswered - firstSent) / 1000;
    // order.created on the stream → the sending of the first ticket query that showed RESERVED. A
    // query sent just before the event was on the stream may already show it: that counts as 0.
    const codes: Record<string, number> = {};
    const reservedLags: number[] = [];
    for (const { orderId, sent } of bought.flatMap((result) => result.reservedSeen)) {
      const created = stream.ordersCreated.get(orderId);
      if (created === undefined) addCodes(codes, { "order.created not seen on the stream": 1 });
      else reservedLags.push(Math.max(0, sent - created));
    }
    for (const result of bought) addCodes(codes, result.codes);
    addCodes(codes, listed.codes);
    addCodes(
      codes,
      Object.fromEntries(Object.entries(delivered.errors).map(([code, times]) => [`fans: ${code}`, times])),
    );
    if (delivered.closed > 0) codes["fans: connection closed"] = delivered.closed;
    if (browsed.failures > 0) codes[`browse: ${browsed.firstFailure ?? "failed"}`] = browsed.failures;

    const createOrder = summarize(latencies);
    const reserved = summarize(reservedLags);
    const listing = summarize(listed.lags);
    const fanOut = summarize(fanLags);
    const browseLatency = summarize(browsed.samples);
    const figures: RunFigures = {
      raceSeconds,
      attempts: latencies.length,
      attemptsPerMinute: (latencies.length / raceSeconds) * 60,
      createOrder: { p50: createOrder.p50, p99: createOrder.p99 },
      reserved: { ...reserved, never: bought.reduce((sum, result) => sum + result.neverReserved, 0) },
      listing: {
        ...listing,
        notFound: listed.notFound,
        never: listed.never,
        n: listed.listedAt.length,
        duringRace: listed.listedAt.filter((at) => at <= raceEnd).length,
      },
      fanOut: { ...fanOut, changes: since().length, missing },
      gatewayRssMb: gatewayRss,
      oversold: oversoldTickets([
        ...bought.flatMap((result) => result.wins.map((win) => win.ticketId)),
        ...listed.wins,
      ]),
      browse: {
        rate: browseLatency.n / browsed.elapsed,
        p99: browseLatency.p99,
        failures: browsed.failures,
        unfinished: browsed.unfinished,
      },
      codes,
      rateLimited: bought.reduce((sum, result) => sum + result.rateLimited, 0) + listed.rateLimited,
      conflicts: bought.reduce((sum, result) => sum + result.conflicts, 0),
      cpu: { race: raceCpu, after: cpuAfter },
    };
    const wins = bought.reduce((sum, result) => sum + result.wins.length, 0);
    console.log(
      `  run ${run}: ${count(figures.attempts)} createOrder in ${raceSeconds.toFixed(1)} s ` +
        `(${count(figures.attemptsPerMinute)}/min), ${wins} won, ${figures.conflicts} CONFLICT, ` +
        `p50 ${duration(createOrder.p50)} p99 ${duration(createOrder.p99)}; RESERVED visible p99 ${duration(reserved.p99)}; ` +
        `listing orderable p99 ${duration(listing.p99)} (${listed.notFound} NOT_FOUND); ` +
        `${figures.fanOut.changes} changes to the last fan p99 ${duration(fanOut.p99)}, ${missing} missing; ` +
        `browse ${figures.browse.rate.toFixed(0)}/s p99 ${duration(browseLatency.p99)}; load average ${load()}`,
    );
    return figures;
  } finally {
    for (const stop of started.reverse()) await stop();
  }
}

function table(rows: string[][]) {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column]!)).join("  "));
}

await withPrivateStack(async (infra) => {
  const machine = `${cpus().length} cores, Node ${process.versions.node}`;
  console.log(
    `On-sale: ${count(options.tickets)} tickets, ${count(options.fans)} fans, ${count(options.buyers)} buyers, ` +
      `${options.browsers} browsers, ${options.listings} listings; ${options.runs} runs; ${machine}; ` +
      `load average ${load()}`,
  );
  const runs: RunFigures[] = [];
  for (let run = 1; run <= options.runs; run++) runs.push(await onsaleRun(infra, run));

  // A run in which nothing was answered has no latency to take the median of.
  const mid = (pick: (figures: RunFigures) => number) => {
    const values = runs.map(pick).filter((value) => !Number.isNaN(value));
    return values.length === 0 ? Number.NaN : median(values);
  };
  const sum = (pick: (figures: RunFigures) => number) => runs.reduce((total, f) => total + pick(f), 0);
  const met = (ok: boolean) => (ok ? "met" : "not met");
  /** The least and the most of a figure over the runs. */
  const range = (pick: (figures: RunFigures) => number, format: (value: number) => string) => {
    const values = runs.map(pick);
    const [least, most] = [Math.min(...values), Math.max(...values)];
    return least === most ? format(least) : `${format(least)}–${format(most)}`;
  };
  const codes: Record<string, number> = {};
  for (const figures of runs) addCodes(codes, figures.codes);
  const throughput = mid((f) => f.attemptsPerMinute);
  const p99 = mid((f) => f.createOrder.p99);
  const reservedP99 = mid((f) => f.reserved.p99);
  const listingP99 = mid((f) => f.listing.p99);
  const fanP99 = mid((f) => f.fanOut.p99);
  const missing = sum((f) => f.fanOut.missing);
  const rss = mid((f) => f.gatewayRssMb);
  const oversold = sum((f) => f.oversold);
  const never = (n: number) => (n > 0 ? `, ${n} never` : "");
  console.log(`\nOn-sale, medians of ${options.runs} runs; ${machine}; load average ${load()}\n`);
  table([
    ["measure", "figures", "goal", ""],
    [
      "createOrder throughput (attempts/min over the race)",
      `${count(throughput)}/min; ${range((f) => f.attempts, count)} attempts in ${range(
        (f) => f.raceSeconds,
        (s) => s.toFixed(1),
      )} s`,
      "≥ 10,000",
      met(throughput >= 10_000),
    ],
    [
      "createOrder latency",
      `p50 ${duration(mid((f) => f.createOrder.p50))}, p99 ${duration(p99)}`,
      "p99 < 250 ms",
      met(p99 < 250),
    ],
    [
      "order.created → RESERVED in ticket(id) { status }",
      `p50 ${duration(mid((f) => f.reserved.p50))}, p99 ${duration(reservedP99)}${never(sum((f) => f.reserved.never))}`,
      "p99 < 200 ms",
      met(reservedP99 < 200 && sum((f) => f.reserved.never) === 0),
    ],
    [
      "listTicket answered → createOrder not NOT_FOUND",
      `p50 ${duration(mid((f) => f.listing.p50))}, p99 ${duration(listingP99)}; ${sum((f) => f.listing.notFound)} NOT_FOUND ` +
        `over ${sum((f) => f.listing.n)} listings (${sum((f) => f.listing.duringRace)} listed during the race)` +
        never(sum((f) => f.listing.never)),
      "p99 < 100 ms",
      met(listingP99 < 100 && sum((f) => f.listing.never) === 0),
    ],
    [
      `change on the stream → the last of ${count(options.fans)} fans`,
      `p50 ${duration(mid((f) => f.fanOut.p50))}, p99 ${duration(fanP99)}, max ${duration(mid((f) => f.fanOut.max))} ` +
        `over ${count(mid((f) => f.fanOut.changes))} changes; ${count(missing)} missing; gateway RSS ${rss.toFixed(0)} MB`,
      `p99 < 100 ms, 0 missing after ${options.grace} s, RSS < 500 MB`,
      met(fanP99 < 100 && missing === 0 && rss < 500),
    ],
    ["oversold (tickets with two won orders)", String(oversold), "0", met(oversold === 0)],
    [
      `browse: Event, ${options.browsers} clients during the race`,
      `${mid((f) => f.browse.rate).toFixed(1)} requests/s, p99 ${duration(mid((f) => f.browse.p99))}, ` +
        `${sum((f) => f.browse.failures)} failed, ${sum((f) => f.browse.unfinished)} unanswered at the end`,
      "",
      "",
    ],
  ]);
  // Apart from the table, whose columns they would stretch: one line each.
  console.log(
    `\nAnswers other than success, summed over the runs: ${count(sum((f) => f.conflicts))} CONFLICT, ` +
      `${sum((f) => f.rateLimited)} RATE_LIMITED (legitimate answers)` +
      (Object.keys(codes).length === 0 ? "; no other error" : ", and:"),
  );
  for (const [code, times] of Object.entries(codes).sort((a, b) => b[1] - a[1])) {
    console.log(`  ${count(times)} × ${code}`);
  }

  console.log(
    "\nCPU, medians of runs, in % of one core: used on average and in the busiest second, and waited " +
      "for a core (ready to run while other processes ran: the machine's load); during the race, and " +
      "after it until every fan had every change",
  );
  const names = [...new Set(runs.flatMap((f) => f.cpu.race.map((use) => use.name)))];
  const percent = (uses: CpuUse[], pick: (use: CpuUse) => number) => {
    const measured = uses.map(pick).filter((value) => !Number.isNaN(value));
    return measured.length === 0 ? "—" : `${median(measured).toFixed(0)} %`;
  };
  const columns = (uses: CpuUse[]) => [
    percent(uses, (use) => use.average),
    percent(uses, (use) => use.peak),
    percent(uses, (use) => use.waiting),
  ];
  table([
    ["", "race:", "", "", "after:", "", ""],
    ["process", "used", "busiest", "waited", "used", "busiest", "waited"],
    ...names.map((name) => [
      name,
      ...columns(runs.flatMap((f) => f.cpu.race.filter((use) => use.name === name))),
      ...columns(runs.flatMap((f) => f.cpu.after.filter((use) => use.name === name))),
    ]),
  ]);
});
