import { randomUUID } from "node:crypto";
import type { TestStream } from "@ticketing/shared-events/testing";
import { eventually } from "@ticketing/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CANCEL_ORDER,
  codeOf,
  CREATE_ORDER,
  dataOf,
  FakeAuth,
  listTicket,
  MY_ORDERS,
  openStream,
  ORDER,
  startOrders,
  ticketUpdated,
  type OrderNode,
  type RunningOrders,
} from "./support.js";

let auth: FakeAuth;
let orders: RunningOrders;
let stream: TestStream;

beforeAll(async () => {
  auth = await FakeAuth.start();
  stream = await openStream();
  orders = await startOrders(auth, { ORDER_HOLD_SECONDS: "600" });
});

afterAll(async () => {
  await orders?.close();
  await stream?.close();
  await auth?.close();
});

const order = (ticketId: string, token: string) =>
  orders.graphql<{ createOrder: OrderNode }>(CREATE_ORDER, { variables: { ticketId }, token });

describe("createOrder", () => {
  it("reserves an available ticket at its price, for ORDER_HOLD_SECONDS, and says so on the stream", async () => {
    const ticket = await listTicket(stream, orders, auth, { price: { amount: 12_345, currency: "GBP" } });
    const buyer = randomUUID();
    const since = await stream.lastSeq();
    const before = Date.now();
    const created = dataOf(await order(ticket.id, auth.token(buyer))).createOrder;

    expect(created).toMatchObject({
      status: "AWAITING_PAYMENT",
      version: 1,
      total: { amount: 12_345, currency: "GBP" },
      ticket: { id: ticket.id },
      buyer: { id: buyer },
    });
    const hold = Date.parse(created.expiresAt) - Date.parse(created.createdAt);
    expect(hold).toBe(600_000);
    expect(Date.parse(created.createdAt)).toBeGreaterThanOrEqual(before - 1_000);

    const events = await eventually(
      () => stream.since(since, "ticketing.order.created"),
      (found) => found.length > 0,
    );
    expect(events.map((event) => event.data)).toEqual([
      {
        id: created.id,
        ticketId: ticket.id,
        buyerId: buyer,
        sellerId: ticket.sellerId,
        total: { amount: 12_345, currency: "GBP" },
        createdAt: created.createdAt,
        expiresAt: created.expiresAt,
      },
    ]);
  });

  it("refuses the anonymous, unknown tickets, one's own ticket and tickets not available", async () => {
    const ticket = await listTicket(stream, orders, auth);
    expect(codeOf(await orders.graphql(CREATE_ORDER, { variables: { ticketId: ticket.id } }))).toBe(
      "UNAUTHENTICATED",
    );
    expect(codeOf(await order(randomUUID(), auth.token()))).toBe("NOT_FOUND");
    const own = await order(ticket.id, auth.token(ticket.sellerId));
    expect(codeOf(own)).toBe("BAD_USER_INPUT");
    expect(own.errors?.[0]?.extensions?.field).toBe("ticketId");

    for (const status of ["WITHDRAWN", "SOLD"] as const) {
      const gone = await listTicket(stream, orders, auth);
      await ticketUpdated(stream, gone, { status });
      const refused = await eventually(
        () => order(gone.id, auth.token()),
        (result) => codeOf(result) === "CONFLICT",
      );
      expect(codeOf(refused)).toBe("CONFLICT");
    }
  });

  it("keeps the total of an order when the price changes afterwards", async () => {
    const ticket = await listTicket(stream, orders, auth);
    const buyer = auth.token();
    const created = dataOf(await order(ticket.id, buyer)).createOrder;
    const reserved = await ticketUpdated(stream, ticket, {
      price: { amount: 1, currency: "EUR" },
      status: "RESERVED",
      orderId: created.id,
    });
    dataOf(await orders.graphql(CANCEL_ORDER, { variables: { id: created.id }, token: buyer }));
    await ticketUpdated(stream, reserved, { status: "AVAILABLE", orderId: null });
    // The next buyer pays the new price: the replica has it.
    const next = await eventually(
      () => order(ticket.id, auth.token()),
      (result) => !result.errors,
    );
    expect(next.data?.createOrder.total).toEqual({ amount: 1, currency: "EUR" });
    const again = dataOf(
      await orders.graphql<{ order: OrderNode }>(ORDER, { variables: { id: created.id }, token: buyer }),
    ).order;
    expect(again.total).toEqual({ amount: 5_000, currency: "EUR" });
  });

  it("lets exactly one of 200 concurrent buyers have a ticket, 20 times over", async () => {
    for (let round = 0; round < 20; round++) {
      const ticket = await listTicket(stream, orders, auth);
      const results = await Promise.all(Array.from({ length: 200 }, () => order(ticket.id, auth.token())));
      const won = results.filter((result) => !result.errors);
      const lost = results.filter((result) => codeOf(result) === "CONFLICT");
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(199);
    }
  }, 300_000);

  it("refuses a malformed ticket id with a clear error", async () => {
    const result = await order("x".repeat(500), auth.token());
    expect(result.status).toBeLessThan(500);
    expect(codeOf(result)).toBe("BAD_USER_INPUT");
  });
});

describe("cancelOrder", () => {
  it("is for the buyer only, while awaiting payment, and frees the ticket for the next buyer", async () => {
    const ticket = await listTicket(stream, orders, auth);
    const buyer = auth.token();
    const created = dataOf(await order(ticket.id, buyer)).createOrder;

    const stranger = await orders.graphql(CANCEL_ORDER, {
      variables: { id: created.id },
      token: auth.token(),
    });
    expect(codeOf(stranger)).toBe("FORBIDDEN");
    expect(
      codeOf(await orders.graphql(CANCEL_ORDER, { variables: { id: randomUUID() }, token: buyer })),
    ).toBe("NOT_FOUND");

    const since = await stream.lastSeq();
    const cancelled = dataOf(
      await orders.graphql<{ cancelOrder: OrderNode }>(CANCEL_ORDER, {
        variables: { id: created.id },
        token: buyer,
      }),
    ).cancelOrder;
    expect(cancelled).toMatchObject({ id: created.id, status: "CANCELLED", version: 2 });
    expect(codeOf(await orders.graphql(CANCEL_ORDER, { variables: { id: created.id }, token: buyer }))).toBe(
      "CONFLICT",
    );
    const events = await eventually(
      () => stream.since(since, "ticketing.order.cancelled"),
      (found) => found.length > 0,
    );
    expect(events.map((event) => event.data)).toEqual([
      { id: created.id, ticketId: ticket.id, reason: "BUYER_CANCELLED" },
    ]);

    // Tickets reserves, then releases the ticket; the next buyer gets it.
    const reserved = await ticketUpdated(stream, ticket, { status: "RESERVED", orderId: created.id });
    await ticketUpdated(stream, reserved, { status: "AVAILABLE", orderId: null });
    const next = await eventually(
      () => order(ticket.id, auth.token()),
      (result) => !result.errors,
    );
    expect(next.data?.createOrder.status).toBe("AWAITING_PAYMENT");
  });
});

describe("order and myOrders", () => {
  it("show buyers their own orders only, and OPS every order", async () => {
    const buyerId = randomUUID();
    const buyer = auth.token(buyerId);
    const mine: string[] = [];
    for (let i = 0; i < 3; i++) {
      const ticket = await listTicket(stream, orders, auth);
      mine.push(dataOf(await order(ticket.id, buyer)).createOrder.id);
    }
    const other = await listTicket(stream, orders, auth);
    const theirs = dataOf(await order(other.id, auth.token())).createOrder.id;

    const read = (id: string, token?: string) =>
      orders.graphql<{ order: OrderNode | null }>(ORDER, { variables: { id }, ...(token ? { token } : {}) });
    expect(dataOf(await read(mine[0]!, buyer)).order?.id).toBe(mine[0]);
    expect(codeOf(await read(theirs, buyer))).toBe("FORBIDDEN");
    expect(codeOf(await read(theirs))).toBe("UNAUTHENTICATED");
    expect(dataOf(await read(theirs, auth.token(randomUUID(), ["USER", "OPS"]))).order?.id).toBe(theirs);
    expect(dataOf(await read(randomUUID(), buyer)).order).toBeNull();

    type Connection = {
      myOrders: {
        edges: { cursor: string; node: OrderNode }[];
        pageInfo: { hasNextPage: boolean; endCursor: string };
      };
    };
    const first = dataOf(
      await orders.graphql<Connection>(MY_ORDERS, { variables: { first: 2 }, token: buyer }),
    ).myOrders;
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = dataOf(
      await orders.graphql<Connection>(MY_ORDERS, {
        variables: { first: 2, after: first.pageInfo.endCursor },
        token: buyer,
      }),
    ).myOrders;
    expect(rest.pageInfo.hasNextPage).toBe(false);
    const listed = [...first.edges, ...rest.edges].map((edge) => edge.node.id);
    expect(listed).toEqual([...mine].reverse());
    expect(listed).not.toContain(theirs);
  });
});
