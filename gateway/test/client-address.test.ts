// Who the client is, behind proxies: X-Forwarded-For is believed only from a trusted proxy, for
// the anonymous rate limit, for the address auth counts sign-ins by, and for WebSockets. The
// gateway trusts only 127.0.0.1 here; a client connects from another loopback address of its
// own (127.x.y.z), so it is an untrusted client with its own rate-limit bucket.
import { randomInt } from "node:crypto";
import { request } from "node:http";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { clientAddresses, parseTrustedProxies } from "../src/client-address.js";
import { loadEnv } from "../src/env.js";
import { SIGN_IN, startSystem, type System } from "./support.js";

const PROXY = "127.0.0.1";
const SIGNIN_LIMIT_PER_ADDRESS = 3;
const EVENTS = "query Events { events(first: 1) { edges { node { id } } } }";
const TICKET_CHANGES = "subscription Changes($eventId: ID!) { ticketChanged(eventId: $eventId) { id } }";

/** A loopback address of its own for each client: 127.x.y.z, never the proxy's. */
const clientAddress = () => `127.${randomInt(1, 255)}.${randomInt(256)}.${randomInt(1, 255)}`;
/** A documentation address nobody else in the suite uses, in a /64 of its own (a bucket's unit). */
const publicAddress = () =>
  `2001:db8:${randomInt(0x10000).toString(16)}:${randomInt(0x10000).toString(16)}::1`;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { data?: unknown; errors?: { extensions?: { code?: string } }[] };
}

/** POST /graphql from `from` (a local address to connect from), with `headers`. */
function post(system: System, from: string, body: object, headers: Record<string, string> = {}) {
  const { port } = new URL(system.url);
  const text = JSON.stringify(body);
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/graphql",
        method: "POST",
        localAddress: from,
        agent: false,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(text),
          ...headers,
        },
      },
      (res) => {
        let data = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (data += chunk));
        res.on("end", () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: JSON.parse(data) as Answer["body"],
          });
        });
      },
    );
    req.on("error", reject);
    req.end(text);
  });
}

const remaining = (answer: Answer) => Number(answer.headers["ratelimit-remaining"]);

const signIn = (system: System, from: string, headers: Record<string, string>) =>
  post(
    system,
    from,
    {
      query: SIGN_IN,
      variables: { input: { email: `nobody-${randomInt(1e9)}@example.com`, password: "wrong" } },
    },
    headers,
  );
const codeOf = (answer: Answer) => answer.body.errors?.[0]?.extensions?.code;

/** Subscribes from `from` with `forwardedFor`; resolves with the refusal's code, or "open" after a while. */
function subscribe(system: System, from: string, forwardedFor: string) {
  class FromAddress extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { localAddress: from, headers: { "x-forwarded-for": forwardedFor } });
    }
  }
  const client = createClient({
    url: `${system.url.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: FromAddress,
    retryAttempts: 0,
    lazy: true,
  });
  let outcome: string | undefined;
  const dispose = client.subscribe(
    { query: TICKET_CHANGES, variables: { eventId: "000000000000000000000000" } },
    {
      next: (result) => (outcome ??= JSON.stringify(result.errors?.[0]?.extensions?.code ?? "data")),
      error: (error) =>
        (outcome ??= Array.isArray(error)
          ? String((error[0] as { extensions?: { code?: string } }).extensions?.code)
          : String(error)),
      complete: () => undefined,
    },
  );
  return {
    outcome: () => outcome,
    async close() {
      dispose();
      await client.dispose();
    },
  };
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let system: System;
beforeAll(async () => {
  system = await startSystem(
    { SIGNIN_LIMIT_PER_ADDRESS: String(SIGNIN_LIMIT_PER_ADDRESS) },
    { TRUSTED_PROXIES: PROXY, RATE_LIMIT_ANONYMOUS_PER_MINUTE: "50", LIVE_SUBSCRIPTIONS_PER_CLIENT: "1" },
  );
});
afterAll(() => system?.stop());

describe("a client that is not a trusted proxy", () => {
  it("cannot leave its rate-limit bucket with a forged X-Forwarded-For", async () => {
    const from = clientAddress();
    const answers: Answer[] = [];
    for (const forged of ["203.0.113.1", "203.0.113.2, 10.0.0.1", PROXY, publicAddress()]) {
      answers.push(await post(system, from, { query: EVENTS }, { "x-forwarded-for": forged }));
    }
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    // One bucket for all four: each request took one more from it.
    const first = remaining(answers[0]!);
    expect(answers.map(remaining)).toEqual([first, first - 1, first - 2, first - 3]);
  });

  it("cannot give auth another address, by X-Forwarded-For or by auth's own header", async () => {
    const from = clientAddress();
    const codes: (string | undefined)[] = [];
    for (let i = 0; i <= SIGNIN_LIMIT_PER_ADDRESS; i++) {
      const forged = publicAddress();
      const answer = await signIn(system, from, { "x-forwarded-for": forged, "x-client-ip": forged });
      codes.push(codeOf(answer));
    }
    // Every attempt counted against the one address it came from.
    expect(codes).toEqual([
      ...Array<string>(SIGNIN_LIMIT_PER_ADDRESS).fill("UNAUTHENTICATED"),
      "RATE_LIMITED",
    ]);
  });

  it("cannot open more live subscriptions by forging X-Forwarded-For on its WebSockets", async () => {
    const from = clientAddress();
    const first = subscribe(system, from, publicAddress());
    const second = subscribe(system, from, publicAddress());
    try {
      await expect.poll(() => first.outcome() ?? second.outcome(), { timeout: 5_000 }).toBeDefined();
      await settle(300);
      // The client holds one subscription (its limit); the other is refused, whatever the header said.
      expect(
        [first.outcome(), second.outcome()].filter((outcome) => outcome === "RATE_LIMITED"),
      ).toHaveLength(1);
    } finally {
      await first.close();
      await second.close();
    }
  });
});

describe("a trusted proxy", () => {
  it("is believed about the client: each forwarded client has its own bucket", async () => {
    const alice = publicAddress();
    const bob = publicAddress();
    const a1 = await post(system, PROXY, { query: EVENTS }, { "x-forwarded-for": alice });
    const b1 = await post(system, PROXY, { query: EVENTS }, { "x-forwarded-for": bob });
    // What a client wrote before the proxy's own entry is not believed: the proxy's entry is alice.
    const a2 = await post(system, PROXY, { query: EVENTS }, { "x-forwarded-for": `${bob}, ${alice}` });
    expect([a1.status, b1.status, a2.status]).toEqual([200, 200, 200]);
    expect(remaining(b1)).toBe(remaining(a1));
    expect(remaining(a2)).toBe(remaining(a1) - 1);
  });

  it("hands auth the forwarded client's address", async () => {
    const crowd = Array.from({ length: SIGNIN_LIMIT_PER_ADDRESS + 1 }, publicAddress);
    const codes: (string | undefined)[] = [];
    // One attempt each from more clients than one address may make: none is limited.
    for (const client of crowd)
      codes.push(codeOf(await signIn(system, PROXY, { "x-forwarded-for": client })));
    expect(codes.every((code) => code === "UNAUTHENTICATED")).toBe(true);
    // The same client again and again is.
    const one = publicAddress();
    const again: (string | undefined)[] = [];
    for (let i = 0; i <= SIGNIN_LIMIT_PER_ADDRESS; i++) {
      again.push(codeOf(await signIn(system, PROXY, { "x-forwarded-for": one })));
    }
    expect(again.at(-1)).toBe("RATE_LIMITED");
  });

  it("is believed on WebSockets too: the subscription limit is the forwarded client's", async () => {
    const alice = publicAddress();
    const bob = publicAddress();
    const first = subscribe(system, PROXY, alice);
    await settle(300);
    const second = subscribe(system, PROXY, bob);
    const third = subscribe(system, PROXY, alice);
    try {
      await expect.poll(() => third.outcome(), { timeout: 5_000 }).toBe("RATE_LIMITED");
      await settle(300);
      expect(first.outcome()).toBeUndefined();
      expect(second.outcome()).toBeUndefined();
    } finally {
      await Promise.all([first.close(), second.close(), third.close()]);
    }
  });
});

describe("TRUSTED_PROXIES", () => {
  it("takes addresses and CIDR blocks, IPv4 and IPv6", () => {
    const addresses = clientAddresses(parseTrustedProxies("10.0.0.0/8, 192.168.1.7,fd00::/8"));
    expect(["10.3.2.1", "::ffff:10.3.2.1", "192.168.1.7", "fd12::1"].map(addresses.trusted)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(["11.0.0.1", "192.168.1.8", "fe80::1", "127.0.0.1"].map(addresses.trusted)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it("refuses at start what is not an address or a block, naming each", () => {
    expect(() => loadEnv({ TRUSTED_PROXIES: "10.0.0.0/33, proxy.local,10.1.2.3" })).toThrow(
      /TRUSTED_PROXIES: "10\.0\.0\.0\/33" has a prefix length outside 0–32; "proxy\.local" is not an IP address or CIDR block/,
    );
  });
});
