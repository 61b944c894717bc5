import {
  DateTimeScalar,
  Money,
  PageInfo,
  unauthenticated,
  type Page,
  type Viewer,
} from "@ticketing/shared-runtime";
import {
  Arg,
  Authorized,
  Ctx,
  Directive,
  Field,
  FieldResolver,
  ID,
  Int,
  Mutation,
  ObjectType,
  Query,
  registerEnumType,
  Resolver,
  Root,
} from "type-graphql";
import type { OrderState } from "../domain/orders.js";
import type { OrdersContext } from "./context.js";
import { Ticket, User } from "./references.js";

export enum OrderStatus {
  AWAITING_PAYMENT = "AWAITING_PAYMENT",
  COMPLETE = "COMPLETE",
  CANCELLED = "CANCELLED",
  EXPIRED = "EXPIRED",
}

registerEnumType(OrderStatus, { name: "OrderStatus" });

@Directive('@key(fields: "id")')
@ObjectType({ description: "A fan's reservation of a ticket, and what became of it." })
export class Order {
  @Field(() => ID)
  id!: string;

  @Field(() => OrderStatus)
  status!: OrderStatus;

  @Field(() => Money, {
    description: "The ticket's price when the order was made; later changes do not touch it.",
  })
  total!: Money;

  @Field(() => DateTimeScalar)
  createdAt!: string;

  @Field(() => DateTimeScalar, { description: "When an unpaid order expires and the ticket is released." })
  expiresAt!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: "When it stopped awaiting payment." })
  endedAt!: string | null;

  @Field(() => Int, { description: "Starts at 1; every transition raises it by one." })
  version!: number;
}

@ObjectType()
export class OrderEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Order)
  node!: Order;
}

@ObjectType()
export class OrderConnection {
  @Field(() => [OrderEdge])
  edges!: OrderEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

function signedIn(viewer: Viewer) {
  if (!viewer) throw unauthenticated();
  return viewer;
}

@Resolver(() => Order)
export class OrderResolver {
  @Authorized()
  @Query(() => Order, {
    nullable: true,
    description: "An order, for its buyer or OPS (FORBIDDEN for anyone else); null when there is none.",
  })
  order(
    @Arg("id", () => ID) id: string,
    @Ctx() { orders, viewer }: OrdersContext,
  ): Promise<OrderState | null> {
    return orders.order(signedIn(viewer), id);
  }

  @Authorized()
  @Query(() => OrderConnection, { description: "The signed-in user's orders, newest first." })
  myOrders(
    @Arg("first", () => Int, { nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() { orders, viewer }: OrdersContext,
  ): Promise<Page<OrderState>> {
    return orders.list(signedIn(viewer), first, after);
  }

  @Authorized("OPS")
  @Query(() => OrderConnection, { description: "Every buyer's orders, newest first. OPS only." })
  orders(
    @Arg("first", () => Int, { nullable: true }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() { orders, viewer }: OrdersContext,
  ): Promise<Page<OrderState>> {
    return orders.list(signedIn(viewer), first, after, true);
  }

  @Authorized()
  @Mutation(() => Order, {
    description:
      "Reserves an AVAILABLE ticket for ORDER_HOLD_SECONDS; of concurrent attempts one wins, the rest get CONFLICT.",
  })
  createOrder(
    @Arg("ticketId", () => ID) ticketId: string,
    @Ctx() { orders, viewer, requestId }: OrdersContext,
  ): Promise<OrderState> {
    return orders.create(signedIn(viewer), ticketId, requestId);
  }

  @Authorized()
  @Mutation(() => Order, { description: "The buyer only, while AWAITING_PAYMENT; the ticket is released." })
  cancelOrder(
    @Arg("id", () => ID) id: string,
    @Ctx() { orders, viewer, requestId }: OrdersContext,
  ): Promise<OrderState> {
    return orders.cancel(signedIn(viewer), id, requestId);
  }

  @FieldResolver(() => Ticket)
  ticket(@Root() order: OrderState): Ticket {
    return { id: order.ticketId };
  }

  @FieldResolver(() => User)
  buyer(@Root() order: OrderState): User {
    return { id: order.buyerId };
  }
}

/** Payments refers to orders; only the buyer and OPS get one back. */
export const orderReference = {
  __resolveReference: async (reference: Record<string, unknown>, { orders, viewer }: OrdersContext) => {
    if (typeof reference.id !== "string" || !viewer) return null;
    return orders.order(viewer, reference.id).catch(() => null);
  },
};
