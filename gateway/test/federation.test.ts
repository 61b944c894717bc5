// One query across subgraphs through the gateway: tickets owns listings, auth resolves sellers.
import { uniqueName } from "@ticketing/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Browser, SIGN_UP, startSystem, type System } from "./support.js";

let system: System;
let opsEmail: string;
beforeAll(async () => {
  opsEmail = `${uniqueName("ops")}@example.com`;
  system = await startSystem({ OPS_EMAILS: opsEmail }, {}, { tickets: true });
});
afterAll(() => system.stop());

it("lists a ticket and shows it with its event and its seller's name from auth", async () => {
  const ops = new Browser(system.url);
  await ops.graphql(SIGN_UP, {
    input: { email: opsEmail, password: "correct horse battery", displayName: "Ops" },
  });
  const created = await ops.graphql<{ createEvent: { id: string } }>(
    `mutation($input: CreateEventInput!) { createEvent(input: $input) { id name } }`,
    { input: { name: "Night Show", venue: "Arena", city: "Lyon", startsAt: "2031-05-01T20:00:00Z" } },
  );
  expect(created.errors).toBeUndefined();
  const eventId = created.data!.createEvent.id;

  const seller = new Browser(system.url);
  const signUp = await seller.graphql<{ signUp: { id: string } }>(SIGN_UP, {
    input: {
      email: `${uniqueName("seller")}@example.com`,
      password: "correct horse battery",
      displayName: "Sam",
    },
  });
  const listed = await seller.graphql<{ listTicket: { id: string } }>(
    `mutation($input: ListTicketInput!) { listTicket(input: $input) { id status version seller { id } event { id } } }`,
    { input: { eventId, title: "Front row", section: "A", price: { amount: 4_500, currency: "EUR" } } },
  );
  expect(listed.errors).toBeUndefined();

  const anonymous = new Browser(system.url);
  const ticket = await anonymous.graphql(
    `query($id: ID!) { ticket(id: $id) { id title status price { amount currency } event { id name } seller { id displayName } } }`,
    { id: listed.data!.listTicket.id },
  );
  expect(ticket.errors).toBeUndefined();
  expect(ticket.data).toEqual({
    ticket: {
      id: listed.data!.listTicket.id,
      title: "Front row",
      status: "AVAILABLE",
      price: { amount: 4_500, currency: "EUR" },
      event: { id: eventId, name: "Night Show" },
      seller: { id: signUp.data!.signUp.id, displayName: "Sam" },
    },
  });

  const refused = await seller.graphql(
    `mutation($input: CreateEventInput!) { createEvent(input: $input) { id } }`,
    { input: { name: "Mine", venue: "Home", city: "Lyon", startsAt: "2031-05-01T20:00:00Z" } },
  );
  expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
});

it("reports nothing to Apollo's servers: the gateway's telemetry is off", () => {
  expect(process.env.APOLLO_TELEMETRY_DISABLED).toBe("true");
});
