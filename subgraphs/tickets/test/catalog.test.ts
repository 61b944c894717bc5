import type { TestStream } from "@ticketing/shared-events/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  codeOf,
  CREATE_EVENT,
  createEvent,
  dataOf,
  EVENT,
  EVENTS,
  FakeAuth,
  fieldOf,
  listTicket,
  openOrdersStream,
  startTickets,
  type EventNode,
  type RunningTickets,
} from "./support.js";

let auth: FakeAuth;
let tickets: RunningTickets;
let ops: string;
let fan: string;
let stream: TestStream;
beforeAll(async () => {
  auth = await FakeAuth.start();
  tickets = await startTickets(auth);
  ops = auth.token(undefined, ["USER", "OPS"]);
  fan = auth.token();
  stream = await openOrdersStream();
});
afterAll(async () => {
  await stream.close();
  await tickets.close();
  await auth.close();
});

type Connection = {
  events: {
    edges: { cursor: string; node: EventNode }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
};

const validInput = {
  name: "Night Train",
  venue: "Tempodrom",
  city: "Berlin",
  startsAt: "2030-06-01T21:00:00+02:00",
  category: "concert",
};

describe("createEvent", () => {
  it("is for OPS only", async () => {
    const anonymous = await tickets.graphql(CREATE_EVENT, { variables: { input: validInput } });
    expect(codeOf(anonymous)).toBe("UNAUTHENTICATED");
    const byFan = await tickets.graphql(CREATE_EVENT, { token: fan, variables: { input: validInput } });
    expect(codeOf(byFan)).toBe("FORBIDDEN");
    expect(byFan.data).toBeNull();
  });

  it("creates an event with trimmed fields, the start in UTC, and publishes event.created", async () => {
    const since = await stream.lastSeq();
    const result = await tickets.graphql<{ createEvent: EventNode }>(CREATE_EVENT, {
      token: ops,
      variables: { input: { ...validInput, name: "  Night Train  " } },
    });
    const created = dataOf(result).createEvent;
    expect(created).toEqual({
      id: expect.any(String) as string,
      name: "Night Train",
      venue: "Tempodrom",
      city: "Berlin",
      startsAt: "2030-06-01T19:00:00.000Z",
      category: "concert",
    });
    const fetched = dataOf(
      await tickets.graphql<{ event: EventNode }>(EVENT, { variables: { id: created.id } }),
    );
    expect(fetched.event).toMatchObject({ ...created, availableTickets: 0 });

    const published = await eventually(() => stream.since(since, "ticketing.event.created"), created.id);
    expect(published?.data).toEqual({
      id: created.id,
      name: "Night Train",
      venue: "Tempodrom",
      city: "Berlin",
      startsAt: "2030-06-01T19:00:00.000Z",
      category: "concert",
    });
  });

  it.each([
    ["name", { name: "   " }],
    ["name", { name: "x".repeat(201) }],
    ["venue", { venue: "" }],
    ["city", { city: "c".repeat(201) }],
    ["category", { category: "k".repeat(51) }],
  ])("refuses a bad %s with BAD_USER_INPUT naming it", async (field, change) => {
    const result = await tickets.graphql(CREATE_EVENT, {
      token: ops,
      variables: { input: { ...validInput, ...change } },
    });
    expect(codeOf(result)).toBe("BAD_USER_INPUT");
    expect(fieldOf(result)).toBe(field);
  });

  it("refuses a start that is not a date", async () => {
    for (const startsAt of ["tomorrow", "2030-13-45T00:00:00Z", "2030-06-01T21:00:00"]) {
      const result = await tickets.graphql(CREATE_EVENT, {
        token: ops,
        variables: { input: { ...validInput, startsAt } },
      });
      expect(result.status).toBeLessThan(500);
      expect(codeOf(result)).toBe("BAD_USER_INPUT");
    }
  });

  it("accepts 200-character names and a missing or blank category", async () => {
    const created = await createEvent(tickets, ops, { name: "n".repeat(200), category: "  " });
    expect(created.name).toHaveLength(200);
    expect(created.category).toBeNull();
  });
});

describe("event", () => {
  it("is null for an unknown id", async () => {
    const result = await tickets.graphql<{ event: null }>(EVENT, { variables: { id: "no-such-event" } });
    expect(result.errors).toBeUndefined();
    expect(result.data?.event).toBeNull();
  });
});

describe("events", () => {
  const city = `Filterton-${Date.now()}`;
  let matching: EventNode[];
  beforeAll(async () => {
    matching = [
      await createEvent(tickets, ops, {
        city,
        name: "Blue Moon Gala",
        category: "Gala",
        startsAt: "2040-01-03T10:00:00Z",
      }),
      await createEvent(tickets, ops, {
        city,
        name: "Red Sky",
        venue: "Moonlight Arena",
        startsAt: "2040-01-01T10:00:00Z",
      }),
      await createEvent(tickets, ops, {
        city: city.toUpperCase(),
        name: "Green Field",
        startsAt: "2040-01-02T10:00:00Z",
      }),
    ];
  });

  const query = async (variables: Record<string, unknown>) =>
    dataOf(await tickets.graphql<Connection>(EVENTS, { variables })).events;

  it("filters by city ignoring case, soonest first", async () => {
    const page = await query({ filter: { city: city.toLowerCase() } });
    expect(page.edges.map((edge) => edge.node.name)).toEqual(["Red Sky", "Green Field", "Blue Moon Gala"]);
  });

  it("searches name, venue and city ignoring case", async () => {
    const page = await query({ filter: { city, search: "MOON" } });
    expect(page.edges.map((edge) => edge.node.name)).toEqual(["Red Sky", "Blue Moon Gala"]);
    const byCity = await query({ filter: { search: city.slice(0, 12).toUpperCase() } });
    expect(byCity.edges.map((edge) => edge.node.id)).toEqual(
      expect.arrayContaining(matching.map((event) => event.id)),
    );
    const literal = await query({ filter: { search: ".*" } });
    expect(literal.edges).toEqual([]);
  });

  it("searches and filters by city ignoring accents too, and hides events without tickets on request", async () => {
    const place = `Zürich-${Date.now()}`;
    const stars = await createEvent(tickets, ops, { city: place, name: "Les Étoiles" });
    const other = await createEvent(tickets, ops, { city: place, name: "Etoile Solo" });
    const names = async (filter: Record<string, unknown>) =>
      (await query({ filter })).edges.map((edge) => edge.node.name);
    expect(await names({ city: place, search: "Les Etoiles" })).toEqual(["Les Étoiles"]);
    expect(await names({ search: `ÉTOILES`, city: place.replace("ü", "u").toUpperCase() })).toEqual([
      "Les Étoiles",
    ]);
    expect(await names({ city: place, withTickets: true })).toEqual([]);
    await listTicket(tickets, fan, stars.id, { price: { amount: 2_000, currency: "CHF" } });
    expect(await names({ city: place, withTickets: true })).toEqual(["Les Étoiles"]);
    expect(other.name).toBe("Etoile Solo");
  });

  it("orders by the lowest price in a currency, cheapest first, events without a ticket in it last", async () => {
    const place = `Priceton-${Date.now()}`;
    const at = (day: number) => `2041-02-0${day}T20:00:00Z`;
    const [dear, cheap, none, pounds] = [
      await createEvent(tickets, ops, { city: place, name: "Dear", startsAt: at(1) }),
      await createEvent(tickets, ops, { city: place, name: "Cheap", startsAt: at(2) }),
      await createEvent(tickets, ops, { city: place, name: "None", startsAt: at(3) }),
      await createEvent(tickets, ops, { city: place, name: "Pounds", startsAt: at(4) }),
    ];
    await listTicket(tickets, fan, dear.id, { price: { amount: 9_000, currency: "EUR" } });
    await listTicket(tickets, fan, cheap.id, { price: { amount: 1_500, currency: "EUR" } });
    await listTicket(tickets, fan, pounds.id, { price: { amount: 100, currency: "GBP" } });
    expect(none).toBeDefined();
    const first = await query({
      first: 2,
      filter: { city: place },
      orderBy: { by: "LOWEST_PRICE", currency: "EUR" },
    });
    expect(first.edges.map((edge) => edge.node.name)).toEqual(["Cheap", "Dear"]);
    const rest = await query({
      first: 2,
      after: first.pageInfo.endCursor,
      filter: { city: place },
      orderBy: { by: "LOWEST_PRICE", currency: "EUR" },
    });
    expect(rest.edges.map((edge) => edge.node.name)).toEqual(["None", "Pounds"]);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    const noCurrency = await tickets.graphql(EVENTS, { variables: { orderBy: { by: "LOWEST_PRICE" } } });
    expect(codeOf(noCurrency)).toBe("BAD_USER_INPUT");
    expect(fieldOf(noCurrency)).toBe("orderBy.currency");
  });

  it("filters by category and by start", async () => {
    expect((await query({ filter: { city, category: "gala" } })).edges.map((edge) => edge.node.name)).toEqual(
      ["Blue Moon Gala"],
    );
    const window = await query({
      filter: { city, startsAfter: "2040-01-01T10:00:00Z", startsBefore: "2040-01-03T10:00:00Z" },
    });
    expect(window.edges.map((edge) => edge.node.name)).toEqual(["Green Field"]);
  });

  it("defaults first to 20, caps it at 100 and refuses a negative one", async () => {
    for (let i = 0; i < 101; i++) await createEvent(tickets, ops, { city: `${city}-bulk` });
    expect((await query({ filter: { city: `${city}-bulk` } })).edges).toHaveLength(20);
    const capped = await query({ first: 500, filter: { city: `${city}-bulk` } });
    expect(capped.edges).toHaveLength(100);
    expect(capped.pageInfo.hasNextPage).toBe(true);
    const negative = await tickets.graphql(EVENTS, { variables: { first: -1 } });
    expect(codeOf(negative)).toBe("BAD_USER_INPUT");
    expect(fieldOf(negative)).toBe("first");
    const rest = await query({
      first: 100,
      after: capped.pageInfo.endCursor,
      filter: { city: `${city}-bulk` },
    });
    expect(rest.edges).toHaveLength(1);
    expect(rest.pageInfo.hasNextPage).toBe(false);
  });

  it("refuses a cursor it did not give out", async () => {
    const result = await tickets.graphql(EVENTS, { variables: { after: "not-a-cursor" } });
    expect(codeOf(result)).toBe("BAD_USER_INPUT");
    expect(fieldOf(result)).toBe("after");
  });

  it("pages without duplicates or skips while events are added", async () => {
    const pagingCity = `${city}-paging`;
    const existing: string[] = [];
    for (let i = 0; i < 12; i++) {
      existing.push(
        (
          await createEvent(tickets, ops, {
            city: pagingCity,
            startsAt: `2041-02-${String(10 + i)}T12:00:00Z`,
          })
        ).id,
      );
    }
    const seen: string[] = [];
    let after: string | null = null;
    let round = 0;
    do {
      const page: Connection["events"] = await query({ first: 5, after, filter: { city: pagingCity } });
      seen.push(...page.edges.map((edge) => edge.node.id));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      round += 1;
      // Before, within and after the pages already read, and at the same instant as a seen one.
      await createEvent(tickets, ops, { city: pagingCity, startsAt: `2041-02-0${round}T12:00:00Z` });
      await createEvent(tickets, ops, {
        city: pagingCity,
        startsAt: `2041-02-${String(10 + round * 2)}T13:00:00Z`,
      });
      await createEvent(tickets, ops, { city: pagingCity, startsAt: `2041-02-10T12:00:00Z` });
    } while (after && round < 20);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(existing));
    const starts = (await query({ first: 100, filter: { city: pagingCity } })).edges.map(
      (edge) => edge.node.startsAt,
    );
    expect([...starts].sort()).toEqual(starts);
  });
});

async function eventually<T extends { aggregateId: string }>(probe: () => Promise<T[]>, aggregateId: string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = (await probe()).find((event) => event.aggregateId === aggregateId);
    if (found || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
