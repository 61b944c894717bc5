// /webhooks/stripe reaches payments byte for byte, so its signature still verifies there.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startSystem, type System } from "./support.js";

interface Received {
  body: string;
  signature: string | undefined;
  contentType: string | undefined;
}

let system: System;
let payments: Server;
const received: Received[] = [];
const receivedBytes: Buffer[] = [];

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      receivedBytes.push(Buffer.concat(chunks));
      resolve(Buffer.concat(chunks).toString());
    });
  });
}

beforeAll(async () => {
  // Stands in for the payments service's webhook endpoint, which is not part of this package.
  payments = createServer((req, res) => {
    void read(req).then((body) => {
      received.push({
        body,
        signature: req.headers["stripe-signature"] as string | undefined,
        contentType: req.headers["content-type"],
      });
      res.writeHead(body.includes("bad") ? 400 : 200, { "content-type": "application/json" });
      res.end(JSON.stringify({ received: !body.includes("bad") }));
    });
  });
  await new Promise<void>((resolve) => payments.listen(0, "127.0.0.1", resolve));
  const { port } = payments.address() as AddressInfo;
  system = await startSystem({}, { PAYMENTS_WEBHOOK_URL: `http://127.0.0.1:${port}/webhooks/stripe` });
});

afterAll(async () => {
  await system.stop();
  await new Promise((resolve) => payments.close(resolve));
});

it("forwards the raw body and the signature, and answers with payments' answer", async () => {
  const payload = '{"id":"evt_1","type":"payment_intent.succeeded",  "data":{}}';
  const ok = await fetch(`${system.url}/webhooks/stripe`, {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": "t=1,v1=abc" },
    body: payload,
  });
  expect(ok.status).toBe(200);
  expect(await ok.json()).toEqual({ received: true });
  expect(received.at(-1)).toEqual({
    body: payload,
    signature: "t=1,v1=abc",
    contentType: "application/json",
  });

  const refused = await fetch(`${system.url}/webhooks/stripe`, { method: "POST", body: "bad" });
  expect(refused.status).toBe(400);
});

it("forwards the bytes untouched: a byte-order mark and invalid UTF-8 reach payments as sent", async () => {
  const bytes = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from('{"id":"evt_2","note":"'),
    Buffer.from([0xc3, 0x28, 0xff]),
    Buffer.from('"}'),
  ]);
  const response = await fetch(`${system.url}/webhooks/stripe`, {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": "t=1,v1=abc" },
    body: bytes,
  });
  expect(response.status).toBe(200);
  expect(receivedBytes.at(-1)?.equals(bytes)).toBe(true);
});

it("asks Stripe to retry later while payments is unreachable", async () => {
  await new Promise((resolve) => payments.close(resolve));
  const response = await fetch(`${system.url}/webhooks/stripe`, { method: "POST", body: "{}" });
  expect(response.status).toBe(503);
  expect(response.headers.get("retry-after")).toBe("30");
});
