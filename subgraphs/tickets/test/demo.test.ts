import { uniqueName } from "@ticketing/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { dataOf, EVENTS, FakeAuth, startTickets, type EventNode, type RunningTickets } from "./support.js";

let auth: FakeAuth;
const running: RunningTickets[] = [];
beforeAll(async () => {
  auth = await FakeAuth.start();
});
afterAll(async () => {
  await Promise.all(running.map((service) => service.close()));
  await auth.close();
});

type Events = { events: { edges: { node: EventNode }[] } };

it("seeds a demo catalog once into an empty database, also when two replicas start together", async () => {
  const database = uniqueName("tickets_demo");
  running.push(
    ...(await Promise.all([
      startTickets(auth, { DEMO_CATALOG: "on" }, { database }),
      startTickets(auth, { DEMO_CATALOG: "on" }, { database }),
    ])),
  );
  const [first, second] = running;
  const list = async (service: RunningTickets | undefined) =>
    dataOf(await service!.graphql<Events>(EVENTS, { variables: { first: 100 } })).events.edges.map(
      (e) => e.node,
    );
  const events = await list(first);
  expect(events).toHaveLength(12);
  expect(new Set(events.map((event) => event.city)).size).toBeGreaterThanOrEqual(3);
  expect(events.every((event) => Date.parse(event.startsAt) > Date.now())).toBe(true);
  expect(events.reduce((sum, event) => sum + event.availableTickets, 0)).toBe(30);
  expect(await list(second)).toEqual(events);

  // A restart finds the catalog and adds nothing.
  await running.pop()?.close();
  running.push(await startTickets(auth, { DEMO_CATALOG: "on" }, { database }));
  expect(await list(running.at(-1))).toHaveLength(12);
});

it("leaves an empty catalog empty with DEMO_CATALOG=off", async () => {
  const service = await startTickets(auth, { DEMO_CATALOG: "off" });
  running.push(service);
  expect(dataOf(await service.graphql<Events>(EVENTS)).events.edges).toEqual([]);
});
