// Worker thread of bench:onsale: signed-in buyers racing for an event's tickets through the
// gateway once told to start. A buyer picks a ticket it believes available and sends createOrder;
// on CONFLICT it tries another, until it wins one or believes none is left. What one buyer learns
// (a ticket is taken) every buyer in every thread learns, as the event page's live availability
// would show them. A winner then reads its ticket through the gateway, anonymously, until the
// ticket shows RESERVED.
import http from "node:http";
import { BroadcastChannel, parentPort, workerData } from "node:worker_threads";
import { now } from "./threads.js";

export interface BuyersData {
  /** The graph's HTTP URL. */
  url: string;
  cookies: string[];
  ticketIds: string[];
  /** The BroadcastChannel on which buyer threads tell each other of taken tickets. */
  channel: string;
  /** How long a winner reads its ticket before counting the reservation as never visible. */
  visibleWithinMs: number;
  /**
   * The event page each buyer reads before the sale opens, as a fan on the page has: its
   * connection is then open when it presses Buy. Null: buyers connect when they first buy.
   */
  page: string | null;
}

export interface BuyersResult {
  /**
   * Latencies of the createOrder attempts, in ms: those answered with an order, CONFLICT or
   * another error; a RATE_LIMITED is no attempt (it is counted apart, and the same ticket tried
   * again after the time it gives).
   */
  latencies: number[];
  firstSent: number;
  lastAnswered: number;
  wins: { ticketId: string; orderId: string }[];
  conflicts: number;
  /** Error codes (with the message) other than CONFLICT and RATE_LIMITED, and how often each came. */
  codes: Record<string, number>;
  rateLimited: number;
  /** For each win, when the first ticket query that showed it RESERVED was sent. */
  reservedSeen: { orderId: string; sent: number }[];
  neverReserved: number;
}

const { url, cookies, ticketIds, channel, visibleWithinMs, page } = workerData as BuyersData;
const target = new URL(url);
// Every buyer's connection stays open between its requests, as a fan's browser keeps it: Node's
// agent would keep only 256 idle ones, and the rest would open new connections when the race
// starts, each waiting its turn to be accepted by a busy gateway.
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: Infinity });

interface Answer {
  status: number;
  body: {
    data?: {
      createOrder?: { id: string } | null;
      ticket?: { status: string } | null;
    } | null;
    errors?: { message?: string; extensions?: { code?: string; retryAfter?: number } }[];
  };
  retryAfter: string | undefined;
}

/** One GraphQL POST over the keep-alive agent (fetch costs several times the CPU per request). */
function post(body: string, cookie?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          ...(cookie ? { cookie } : {}),
        },
        timeout: 30_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          try {
            resolve({
              status: response.statusCode ?? 0,
              body: JSON.parse(Buffer.concat(chunks).toString()) as Answer["body"],
              retryAfter: response.headers["retry-after"],
            });
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)));
          }
        });
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error("no answer within 30 s")));
    request.on("error", (error: NodeJS.ErrnoException) => {
      // A kept-alive connection the server closed, idle, just as it was reused: the request never
      // reached it. Sent again on another connection, as browsers do.
      if (request.reusedSocket && error.code === "ECONNRESET") post(body, cookie).then(resolve, reject);
      else reject(new Error(`${error.message} (${request.reusedSocket ? "kept-alive" : "new"} connection)`));
    });
    request.end(body);
  });
}

const createOrder = (ticketId: string) =>
  JSON.stringify({
    query: "mutation($t: ID!) { createOrder(ticketId: $t) { id } }",
    variables: { t: ticketId },
  });
const readTicket = (ticketId: string) =>
  JSON.stringify({ query: "query($id: ID!) { ticket(id: $id) { status } }", variables: { id: ticketId } });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const taken = new Set<string>();
const news = new BroadcastChannel(channel);
news.onmessage = (message) => taken.add((message as { data: string }).data);
const tell = (ticketId: string) => {
  taken.add(ticketId);
  news.postMessage(ticketId);
};

const result: BuyersResult = {
  latencies: [],
  firstSent: Infinity,
  lastAnswered: 0,
  wins: [],
  conflicts: 0,
  codes: {},
  rateLimited: 0,
  reservedSeen: [],
  neverReserved: 0,
};
const countCode = (code: string) => (result.codes[code] = (result.codes[code] ?? 0) + 1);

async function watchReserved(ticketId: string, orderId: string) {
  const body = readTicket(ticketId);
  const deadline = now() + visibleWithinMs;
  while (now() < deadline) {
    const sent = now();
    const answer = await post(body).catch(() => undefined);
    if (answer?.body.data?.ticket?.status === "RESERVED") {
      result.reservedSeen.push({ orderId, sent });
      return;
    }
  }
  result.neverReserved++;
}

/** Winners reading their tickets; they go on after the race is over. */
const watching: Promise<void>[] = [];

async function buyer(cookie: string) {
  // Tickets this buyer gave up on after an unexpected answer; another buyer may still get them.
  const skipped = new Set<string>();
  let ticketId: string | undefined;
  for (;;) {
    if (ticketId === undefined) {
      const believed = ticketIds.filter((id) => !taken.has(id) && !skipped.has(id));
      if (believed.length === 0) return;
      ticketId = believed[Math.floor(Math.random() * believed.length)]!;
    }
    const sent = now();
    result.firstSent = Math.min(result.firstSent, sent);
    const answer = await post(createOrder(ticketId), cookie).catch((error: unknown) => error as Error);
    const answered = now();
    if (answer instanceof Error) {
      countCode(`createOrder: ${answer.message}`);
      skipped.add(ticketId);
      ticketId = undefined;
      continue;
    }
    result.lastAnswered = Math.max(result.lastAnswered, answered);
    const order = answer.body.data?.createOrder;
    const error = answer.body.errors?.[0];
    const code = error?.extensions?.code ?? `HTTP ${answer.status}`;
    if (!order && code === "RATE_LIMITED") {
      // A legitimate answer, but no attempt: wait as told, then try the same ticket again unless
      // it was taken meanwhile.
      result.rateLimited++;
      await sleep(1_000 * Number(error?.extensions?.retryAfter ?? answer.retryAfter ?? 1));
      if (taken.has(ticketId)) ticketId = undefined;
      continue;
    }
    result.latencies.push(answered - sent);
    if (order) {
      tell(ticketId);
      result.wins.push({ ticketId, orderId: order.id });
      watching.push(watchReserved(ticketId, order.id));
      return;
    }
    if (code === "CONFLICT") {
      result.conflicts++;
      tell(ticketId);
    } else {
      // With the message, which tells one cause of a code from another (masked ones are all alike).
      countCode(`${code}: ${error?.message?.slice(0, 100)}`);
      skipped.add(ticketId);
    }
    ticketId = undefined;
  }
}

export type BuyersMessage = { type: "ready" } | { type: "raced" } | { type: "done"; result: BuyersResult };

parentPort!.once("message", () => {
  void (async () => {
    await Promise.all(cookies.map(buyer));
    parentPort!.postMessage({ type: "raced" } satisfies BuyersMessage);
    await Promise.all(watching);
    news.close();
    agent.destroy();
    parentPort!.postMessage({ type: "done", result } satisfies BuyersMessage);
  })();
});
void (async () => {
  if (page !== null) {
    await Promise.all(
      cookies.map((cookie) =>
        post(page, cookie).then((answer) => {
          if (answer.status !== 200) throw new Error(`the event page answered ${answer.status}`);
        }),
      ),
    );
  }
  parentPort!.postMessage({ type: "ready" } satisfies BuyersMessage);
})();
