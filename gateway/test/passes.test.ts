// Passes through the gateway: a purchase (auth, tickets, orders, payments in sandbox mode) issues a
// pass whose signed, rotating code gates admit once; a transfer re-issues it and kills old codes.
// Codes step every second here (PASS_CODE_STEP_SECONDS=1), so a stale code takes two seconds.
import { randomUUID, createPublicKey, verify } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { eventually } from "@ticketing/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Browser, type GraphQLResponse, type System, dataOf, signedUp, startSystem } from "./support.js";

const CREATE_EVENT = `mutation($input: CreateEventInput!) { createEvent(input: $input) { id } }`;
const LIST_TICKET = `mutation($input: ListTicketInput!) { listTicket(input: $input) { id } }`;
const CREATE_ORDER = `mutation($ticketId: ID!) { createOrder(ticketId: $ticketId) { id } }`;
const START_PAYMENT = `mutation($orderId: ID!) { startPayment(orderId: $orderId) { paymentIntentId } }`;
const CONFIRM_SANDBOX = `mutation($orderId: ID!) { confirmSandboxPayment(orderId: $orderId) { id status } }`;
const PASS_FIELDS = `id status issue code codeExpiresAt checkedInAt title
  event { id name } ticket { id title } holder { id }
  pendingTransfer { toEmail to { id } }
  history { issue holder { id } endedBy }`;
const MY_PASSES = `query MyPasses { myPasses { ${PASS_FIELDS} } }`;
const ORDER_PASSES = `query($id: ID!) { order(id: $id) { id status passes { id status } } }`;
const EVENT_PASS_KEY = `query($eventId: ID!) { eventPassKey(eventId: $eventId) { eventId keyId algorithm publicKey jwk stepSeconds windowSteps } }`;
const CHECK_IN = `mutation CheckIn($eventId: ID!, $code: String!) {
  checkIn(eventId: $eventId, code: $code) { admitted refusal message checkedInAt pass { id status } }
}`;
const OFFER = `mutation($passId: ID!, $email: String!) { offerPassTransfer(passId: $passId, email: $email) { ${PASS_FIELDS} } }`;
const ACCEPT = `mutation($passId: ID!) { acceptPassTransfer(passId: $passId) { ${PASS_FIELDS} } }`;
const INCOMING = `query { incomingPassTransfers { id pendingTransfer { toEmail } } }`;

interface PassNode {
  id: string;
  status: string;
  issue: number;
  code: string | null;
  codeExpiresAt: string | null;
  checkedInAt: string | null;
  title: string;
  event: { id: string; name: string };
  ticket: { id: string; title: string };
  holder: { id: string };
  pendingTransfer: { toEmail: string; to: { id: string } } | null;
  history: { issue: number; holder: { id: string }; endedBy: string | null }[];
}
interface CheckInNode {
  admitted: boolean;
  refusal: string | null;
  message: string;
  checkedInAt: string | null;
  pass: { id: string; status: string } | null;
}

const codeOf = (response: GraphQLResponse<unknown>) => response.errors?.[0]?.extensions?.code;

let system: System;
let ops: Browser;
let staff: Browser;
let seller: Browser;
let eventId: string;
let otherEventId: string;

const email = (who: string) => `${who}-${randomUUID()}@example.com`;

beforeAll(async () => {
  const opsEmail = email("ops");
  const staffEmail = email("staff");
  system = await startSystem(
    { OPS_EMAILS: opsEmail, STAFF_EMAILS: staffEmail },
    {},
    { tickets: true, orders: {}, payments: {}, passes: { PASS_CODE_STEP_SECONDS: "1" } },
  );
  [ops, staff, seller] = await Promise.all([
    signedUp(system, opsEmail, "Ops"),
    signedUp(system, staffEmail, "Gate"),
    signedUp(system, email("seller"), "Sam Seller"),
  ]);
  const create = async (name: string) =>
    dataOf(
      await ops.graphql<{ createEvent: { id: string } }>(CREATE_EVENT, {
        input: { name, venue: "Arena", city: "Lyon", startsAt: "2031-06-01T20:00:00Z" },
      }),
    ).createEvent.id;
  eventId = await create("Night Show");
  otherEventId = await create("Day Show");
}, 120_000);

afterAll(() => system?.stop());

/** A ticket of the event listed by the seller, bought and paid by `buyer`; the order's id. */
async function buy(buyer: Browser, title = "Row A"): Promise<string> {
  const ticketId = dataOf(
    await seller.graphql<{ listTicket: { id: string } }>(LIST_TICKET, {
      input: { eventId, title, price: { amount: 4_200, currency: "EUR" } },
    }),
  ).listTicket.id;
  const ordered = await eventually(
    () => buyer.graphql<{ createOrder: { id: string } }>(CREATE_ORDER, { ticketId }),
    (answer) => codeOf(answer) !== "NOT_FOUND",
  );
  const orderId = dataOf(ordered).createOrder.id;
  dataOf(await buyer.graphql(START_PAYMENT, { orderId }));
  dataOf(await buyer.graphql(CONFIRM_SANDBOX, { orderId }));
  return orderId;
}

const myPasses = async (browser: Browser) =>
  dataOf(await browser.graphql<{ myPasses: PassNode[] }>(MY_PASSES)).myPasses;

/** The buyer's pass of an order, once passes has issued it. */
async function passOf(buyer: Browser, orderId: string): Promise<PassNode> {
  const order = await eventually(
    async () =>
      dataOf(await buyer.graphql<{ order: { passes: { id: string }[] } }>(ORDER_PASSES, { id: orderId })),
    (data) => data.order.passes.length > 0,
    15_000,
  );
  const id = order.order.passes[0]!.id;
  const pass = (await myPasses(buyer)).find((candidate) => candidate.id === id);
  if (!pass) throw new Error(`pass ${id} is not among the buyer's`);
  return pass;
}

/** The holder's current code, with at least 800 ms of its window left. */
async function freshCode(holder: Browser, passId: string): Promise<string> {
  for (;;) {
    const pass = (await myPasses(holder)).find((candidate) => candidate.id === passId);
    if (!pass?.code || !pass.codeExpiresAt) throw new Error(`no code for pass ${passId}`);
    if (Date.parse(pass.codeExpiresAt) - Date.now() > 800) return pass.code;
    await sleep(Date.parse(pass.codeExpiresAt) - Date.now() + 10);
  }
}

const checkIn = async (scanner: Browser, code: string, at = eventId) =>
  dataOf(await scanner.graphql<{ checkIn: CheckInNode }>(CHECK_IN, { eventId: at, code })).checkIn;

describe("passes", () => {
  it("issues one pass per purchase, to the buyer, with a code the event's public key verifies", async () => {
    const buyer = await signedUp(system, email("buyer"), "Bea Buyer");
    const orderId = await buy(buyer, "Row B, seat 7");
    const pass = await passOf(buyer, orderId);
    const me = dataOf(await buyer.graphql<{ me: { id: string } }>(`query { me { id } }`)).me;
    expect(pass).toMatchObject({
      status: "VALID",
      issue: 1,
      title: "Row B, seat 7",
      event: { id: eventId, name: "Night Show" },
      ticket: { title: "Row B, seat 7" },
      holder: { id: me.id },
      checkedInAt: null,
      history: [{ issue: 1, holder: { id: me.id }, endedBy: null }],
    });
    expect(await myPasses(buyer)).toHaveLength(1);
    expect(await myPasses(seller)).toEqual([]);

    // A scanner verifies the code offline with the key eventPassKey gives.
    const key = dataOf(
      await staff.graphql<{
        eventPassKey: { jwk: string; algorithm: string; stepSeconds: number; windowSteps: number };
      }>(EVENT_PASS_KEY, { eventId }),
    ).eventPassKey;
    expect(key).toMatchObject({ algorithm: "Ed25519", stepSeconds: 1, windowSteps: 1 });
    const [version, payload, signature] = pass.code!.split(".");
    const publicKey = createPublicKey({ key: JSON.parse(key.jwk) as Record<string, string>, format: "jwk" });
    expect(
      verify(null, Buffer.from(`${version}.${payload}`), publicKey, Buffer.from(signature!, "base64url")),
    ).toBe(true);
    expect(JSON.parse(Buffer.from(payload!, "base64url").toString())).toMatchObject({
      p: pass.id,
      i: 1,
      e: eventId,
    });

    // The code rotates: a second later it is another one.
    await sleep(1_050);
    expect((await myPasses(buyer))[0]!.code).not.toBe(pass.code);
  });

  it("admits a pass once when twenty scanners race on its code; fans cannot check in", async () => {
    const buyer = await signedUp(system, email("buyer"), "Rae Racer");
    const pass = await passOf(buyer, await buy(buyer));
    const code = await freshCode(buyer, pass.id);
    expect(codeOf(await buyer.graphql(CHECK_IN, { eventId, code }))).toBe("FORBIDDEN");

    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => checkIn(i % 2 === 0 ? staff : ops, code)),
    );
    const admitted = results.filter((result) => result.admitted);
    expect(admitted).toHaveLength(1);
    const refused = results.filter((result) => !result.admitted);
    expect(refused.map((result) => result.refusal)).toEqual(Array(19).fill("ALREADY_CHECKED_IN"));
    expect(new Set(results.map((result) => result.checkedInAt))).toEqual(new Set([admitted[0]!.checkedInAt]));
    expect(refused[0]!.message).toContain(admitted[0]!.checkedInAt);

    const after = (await myPasses(buyer)).find((candidate) => candidate.id === pass.id)!;
    expect(after).toMatchObject({ status: "CHECKED_IN", code: null, checkedInAt: admitted[0]!.checkedInAt });
  });

  it("refuses a forged, a tampered, another event's and a stale code, then admits a live one", async () => {
    const buyer = await signedUp(system, email("buyer"), "Tom Tamper");
    const pass = await passOf(buyer, await buy(buyer));
    const code = await freshCode(buyer, pass.id);
    const [version, payload, signature] = code.split(".");
    const claims = JSON.parse(Buffer.from(payload!, "base64url").toString()) as Record<string, unknown>;
    const tampered = `${version}.${Buffer.from(JSON.stringify({ ...claims, i: 2 })).toString("base64url")}.${signature}`;
    expect(await checkIn(staff, tampered)).toMatchObject({ admitted: false, refusal: "FORGED", pass: null });
    expect(await checkIn(staff, `${version}.${payload}.${"A".repeat(86)}`)).toMatchObject({
      refusal: "FORGED",
    });
    expect(await checkIn(staff, "https://example.com/not-a-pass")).toMatchObject({ refusal: "MALFORMED" });
    expect(await checkIn(staff, code, otherEventId)).toMatchObject({ refusal: "OTHER_EVENT" });

    // Two steps later the same code is stale: a screenshot does not get in.
    const expiresAt = Date.parse((await myPasses(buyer)).find((p) => p.id === pass.id)!.codeExpiresAt!);
    await sleep(Math.max(0, expiresAt - Date.now()) + 1_050);
    expect(await checkIn(staff, code)).toMatchObject({ admitted: false, refusal: "STALE" });

    expect(await checkIn(staff, await freshCode(buyer, pass.id))).toMatchObject({
      admitted: true,
      refusal: null,
    });
  });

  it("transfers by email: the pass is re-issued to the recipient, the old codes die, both see it", async () => {
    const recipientEmail = email("friend");
    const [giver, friend, stranger] = await Promise.all([
      signedUp(system, email("giver"), "Gil Giver"),
      signedUp(system, recipientEmail, "Fay Friend"),
      signedUp(system, email("stranger"), "Stan"),
    ]);
    const pass = await passOf(giver, await buy(giver));
    const oldCode = await freshCode(giver, pass.id);

    expect(codeOf(await giver.graphql(OFFER, { passId: pass.id, email: email("nobody") }))).toBe(
      "BAD_USER_INPUT",
    );
    expect(codeOf(await stranger.graphql(OFFER, { passId: pass.id, email: recipientEmail }))).toBe(
      "FORBIDDEN",
    );
    // The recipient's account reaches passes by auth's user.registered: retried until it has.
    const offered = await eventually(
      () => giver.graphql<{ offerPassTransfer: PassNode }>(OFFER, { passId: pass.id, email: recipientEmail }),
      (answer) => codeOf(answer) !== "BAD_USER_INPUT",
    );
    expect(dataOf(offered).offerPassTransfer.pendingTransfer?.toEmail).toBe(recipientEmail);
    expect(
      dataOf(await friend.graphql<{ incomingPassTransfers: { id: string }[] }>(INCOMING))
        .incomingPassTransfers,
    ).toEqual([{ id: pass.id, pendingTransfer: { toEmail: recipientEmail } }]);
    expect(codeOf(await stranger.graphql(ACCEPT, { passId: pass.id }))).toBe("FORBIDDEN");

    const accepted = dataOf(
      await friend.graphql<{ acceptPassTransfer: PassNode }>(ACCEPT, { passId: pass.id }),
    ).acceptPassTransfer;
    expect(accepted).toMatchObject({ status: "VALID", issue: 2, pendingTransfer: null });
    expect(accepted.history.map((holding) => holding.endedBy)).toEqual(["TRANSFERRED", null]);

    // The giver's code, still inside its time window, is dead; the giver sees the pass as transferred.
    expect(await checkIn(staff, oldCode)).toMatchObject({ admitted: false, refusal: "TRANSFERRED" });
    const giverView = (await myPasses(giver)).find((candidate) => candidate.id === pass.id)!;
    expect(giverView).toMatchObject({ status: "TRANSFERRED", code: null, issue: 2 });
    expect((await myPasses(friend)).map((candidate) => [candidate.id, candidate.status])).toEqual([
      [pass.id, "VALID"],
    ]);

    expect(await checkIn(staff, await freshCode(friend, pass.id))).toMatchObject({ admitted: true });
    // Checked in: it cannot be passed on any more.
    expect(codeOf(await friend.graphql(OFFER, { passId: pass.id, email: recipientEmail }))).toBe(
      "BAD_USER_INPUT",
    );
    const late = await friend.graphql(OFFER, { passId: pass.id, email: await giverEmail(giver) });
    expect(codeOf(late)).toBe("CONFLICT");
  });
});

const SET_POLICY = `mutation($eventId: ID!, $input: ResalePolicyInput!) {
  setResalePolicy(eventId: $eventId, input: $input) { id resalePriceCap { amount currency } unverifiedListingsAllowed }
}`;
const LIST_PASS = `mutation($input: ListPassInput!) {
  listPass(input: $input) { id title verified status price { amount currency } event { id } pass { id } seller { id } }
}`;
const TICKET = `query($id: ID!) { ticket(id: $id) { id verified pass { id } } }`;

describe("verified resale", () => {
  it("lists a pass under the event's price cap, and the sale re-issues it to the buyer", async () => {
    const policy = dataOf(
      await ops.graphql<{ setResalePolicy: unknown }>(SET_POLICY, {
        eventId,
        input: { resalePriceCap: { amount: 5_000, currency: "EUR" } },
      }),
    ).setResalePolicy;
    expect(policy).toEqual({
      id: eventId,
      resalePriceCap: { amount: 5_000, currency: "EUR" },
      unverifiedListingsAllowed: true,
    });
    expect(codeOf(await seller.graphql(SET_POLICY, { eventId, input: {} }))).toBe("FORBIDDEN");

    const [holder, buyer] = await Promise.all([
      signedUp(system, email("holder"), "Hal Holder"),
      signedUp(system, email("buyer"), "Bo Buyer"),
    ]);
    const pass = await passOf(holder, await buy(holder, "Row R, seat 1"));
    const oldCode = await freshCode(holder, pass.id);

    // Tickets learns of the pass from passes' events: retried while it has not.
    const listPass = (browser: Browser, amount: number) =>
      browser.graphql<{ listPass: { id: string } & Record<string, unknown> }>(LIST_PASS, {
        input: { passId: pass.id, price: { amount, currency: "EUR" } },
      });
    const above = await eventually(
      () => listPass(holder, 6_000),
      (answer) => codeOf(answer) !== "NOT_FOUND",
    );
    expect(codeOf(above)).toBe("BAD_USER_INPUT");
    expect(above.errors?.[0]?.message).toContain("EUR 50.00");
    expect(above.errors?.[0]?.extensions?.field).toBe("price");
    expect(codeOf(await listPass(buyer, 4_000))).toBe("FORBIDDEN");

    const listing = dataOf(await listPass(holder, 4_500)).listPass;
    expect(listing).toMatchObject({
      title: "Row R, seat 1",
      verified: true,
      status: "AVAILABLE",
      price: { amount: 4_500, currency: "EUR" },
      event: { id: eventId },
      pass: { id: pass.id },
      seller: { id: pass.holder.id },
    });
    expect(codeOf(await listPass(holder, 4_500))).toBe("CONFLICT");
    // A free-text listing of the same event is not verified; one above the cap is refused too.
    const plain = dataOf(
      await seller.graphql<{ listTicket: { id: string } }>(LIST_TICKET, {
        input: { eventId, title: "Anything", price: { amount: 4_000, currency: "EUR" } },
      }),
    ).listTicket;
    expect(dataOf(await seller.graphql<{ ticket: unknown }>(TICKET, { id: plain.id })).ticket).toEqual({
      id: plain.id,
      verified: false,
      pass: null,
    });
    const dear = await seller.graphql(LIST_TICKET, {
      input: { eventId, title: "Dear", price: { amount: 9_000, currency: "EUR" } },
    });
    expect(codeOf(dear)).toBe("BAD_USER_INPUT");

    // Listed: the pass does not get in, cannot be transferred, and shows no code.
    const listed = await eventually(
      () => checkIn(staff, oldCode),
      (result) => result.refusal === "LISTED",
    );
    expect(listed).toMatchObject({ admitted: false, refusal: "LISTED" });
    expect((await myPasses(holder)).find((p) => p.id === pass.id)?.code).toBeNull();

    // Sold: re-issued to the buyer; the seller's codes die, and the seller sees it resold.
    const orderId = await eventually(
      () => buyer.graphql<{ createOrder: { id: string } }>(CREATE_ORDER, { ticketId: listing.id }),
      (answer) => codeOf(answer) !== "NOT_FOUND",
    ).then((answer) => dataOf(answer).createOrder.id);
    dataOf(await buyer.graphql(START_PAYMENT, { orderId }));
    dataOf(await buyer.graphql(CONFIRM_SANDBOX, { orderId }));
    const bought = await eventually(
      async () => (await myPasses(buyer)).find((p) => p.id === pass.id),
      (found) => found?.status === "VALID",
      15_000,
    );
    expect(bought).toMatchObject({ issue: 2, status: "VALID" });
    const resaleOrder = dataOf(
      await buyer.graphql<{ order: { passes: { id: string }[] } }>(ORDER_PASSES, { id: orderId }),
    ).order;
    expect(resaleOrder.passes.map((p) => p.id)).toEqual([pass.id]);
    expect(bought!.history.map((holding) => holding.endedBy)).toEqual(["RESOLD", null]);
    expect((await myPasses(holder)).find((p) => p.id === pass.id)).toMatchObject({
      status: "RESOLD",
      code: null,
    });
    expect(await checkIn(staff, oldCode)).toMatchObject({ admitted: false, refusal: "RESOLD" });
    expect(await checkIn(staff, await freshCode(buyer, pass.id))).toMatchObject({ admitted: true });
  });

  it("refuses free-text listings where the event allows only verified resale", async () => {
    dataOf(
      await ops.graphql(SET_POLICY, { eventId: otherEventId, input: { unverifiedListingsAllowed: false } }),
    );
    const refused = await seller.graphql(LIST_TICKET, {
      input: { eventId: otherEventId, title: "Free text", price: { amount: 1_000, currency: "EUR" } },
    });
    expect(codeOf(refused)).toBe("BAD_USER_INPUT");
    expect(refused.errors?.[0]?.extensions?.field).toBe("eventId");
  });
});

async function giverEmail(browser: Browser): Promise<string> {
  return dataOf(await browser.graphql<{ me: { email: string } }>(`query { me { email } }`)).me.email;
}
