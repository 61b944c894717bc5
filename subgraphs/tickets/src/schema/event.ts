import { type Page, PageInfo, Money, MoneyInput, DateTimeScalar } from "@ticketing/shared-runtime";
import {
  Arg,
  Authorized,
  Ctx,
  Directive,
  Field,
  FieldResolver,
  ID,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
  registerEnumType,
} from "type-graphql";
import type { EventState } from "../domain/catalog.js";
import type { TicketState } from "../domain/tickets.js";
import type { TicketsContext } from "./context.js";
import { TicketConnection } from "./ticket.js";

@Directive('@key(fields: "id")')
@ObjectType({ description: "Something people buy tickets for: a concert, a match, a show." })
export class Event {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String)
  venue!: string;

  @Field(() => String)
  city!: string;

  @Field(() => DateTimeScalar)
  startsAt!: string;

  @Field(() => String, { nullable: true })
  category!: string | null;
}

@ObjectType()
export class EventEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Event)
  node!: Event;
}

@ObjectType()
export class EventConnection {
  @Field(() => [EventEdge])
  edges!: EventEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@InputType()
export class EventFilter {
  @Field(() => String, {
    nullable: true,
    description: "In the name, venue or city, ignoring case and accents (etoiles finds Les Étoiles).",
  })
  search?: string | null;

  @Field(() => String, { nullable: true, description: "The city, ignoring case and accents." })
  city?: string | null;

  @Field(() => String, { nullable: true, description: "The category, ignoring case." })
  category?: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "Only events starting after this instant." })
  startsAfter?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "Only events starting before this instant." })
  startsBefore?: Date | null;

  @Field(() => Boolean, { nullable: true, description: "Only events with an AVAILABLE ticket." })
  withTickets?: boolean | null;
}

export enum EventOrderBy {
  STARTS_AT = "STARTS_AT",
  LOWEST_PRICE = "LOWEST_PRICE",
}

registerEnumType(EventOrderBy, {
  name: "EventOrderBy",
  valuesConfig: {
    STARTS_AT: { description: "Soonest first (then by id): the default." },
    LOWEST_PRICE: {
      description:
        "Cheapest first by the lowest AVAILABLE price in the order's currency; events without a ticket in it last, soonest first.",
    },
  },
});

@InputType()
export class EventOrder {
  @Field(() => EventOrderBy)
  by!: EventOrderBy;

  @Field(() => String, {
    nullable: true,
    description: "With LOWEST_PRICE (required then): the currency whose amounts are compared.",
  })
  currency?: string | null;
}

@InputType()
export class CreateEventInput {
  @Field(() => String, { description: "1 to 200 characters, trimmed." })
  name!: string;

  @Field(() => String, { description: "1 to 200 characters, trimmed." })
  venue!: string;

  @Field(() => String, { description: "1 to 200 characters, trimmed." })
  city!: string;

  @Field(() => DateTimeScalar)
  startsAt!: Date;

  @Field(() => String, { nullable: true, description: "At most 50 characters; blank means none." })
  category?: string | null;
}

@InputType()
export class ResalePolicyInput {
  @Field(() => MoneyInput, {
    nullable: true,
    description:
      "The highest resale price (a listing above it is BAD_USER_INPUT); null clears it, absent keeps it.",
  })
  resalePriceCap?: MoneyInput | null;

  @Field(() => Boolean, {
    nullable: true,
    description: "Whether free-text listings are allowed; absent keeps it.",
  })
  unverifiedListingsAllowed?: boolean | null;
}

@Resolver(() => Event)
export class EventResolver {
  @Query(() => EventConnection, {
    description: "The catalog, soonest first (then by id) unless orderBy says otherwise.",
  })
  events(
    @Arg("first", () => Int, { nullable: true, description: "20 when absent, at most 100." })
    first: number | null | undefined,
    @Arg("after", () => String, { nullable: true }) after: string | null | undefined,
    @Arg("filter", () => EventFilter, { nullable: true }) filter: EventFilter | null | undefined,
    @Arg("orderBy", () => EventOrder, { nullable: true }) orderBy: EventOrder | null | undefined,
    @Ctx() { catalog }: TicketsContext,
  ): Promise<Page<EventState>> {
    return catalog.events({ first, after, filter, orderBy });
  }

  @Query(() => Event, { nullable: true })
  event(@Arg("id", () => ID) id: string, @Ctx() { catalog }: TicketsContext): Promise<EventState | null> {
    return catalog.event(id);
  }

  @Authorized("OPS")
  @Mutation(() => Event, { description: "OPS only." })
  createEvent(
    @Arg("input", () => CreateEventInput) input: CreateEventInput,
    @Ctx() { catalog, requestId }: TicketsContext,
  ): Promise<EventState> {
    return catalog.createEvent(input, requestId);
  }

  @Authorized("OPS")
  @Mutation(() => Event, { description: "Sets the event's resale rules. OPS only." })
  setResalePolicy(
    @Arg("eventId", () => ID) eventId: string,
    @Arg("input", () => ResalePolicyInput) input: ResalePolicyInput,
    @Ctx() { catalog, requestId }: TicketsContext,
  ): Promise<EventState> {
    return catalog.setResalePolicy(eventId, input, requestId);
  }

  @FieldResolver(() => Money, {
    nullable: true,
    description: "The highest price a listing of it may ask; null: no cap.",
  })
  resalePriceCap(@Root() event: EventState): Money | null {
    return event.resalePriceCap ?? null;
  }

  @FieldResolver(() => Boolean, {
    description:
      "Whether free-text (unverified) listings are allowed; otherwise only passes resold with listPass.",
  })
  unverifiedListingsAllowed(@Root() event: EventState): boolean {
    return event.unverifiedListingsAllowed ?? true;
  }

  @FieldResolver(() => Int, { description: "How many of its tickets are AVAILABLE." })
  async availableTickets(@Root() event: EventState, @Ctx() { summary }: TicketsContext): Promise<number> {
    return (await summary(event.id)).availableTickets;
  }

  @FieldResolver(() => Money, {
    nullable: true,
    description:
      "The lowest price among its AVAILABLE tickets in the event's currency (see currency); null when there are none. Amounts of different currencies are never compared.",
  })
  async lowestPrice(@Root() event: EventState, @Ctx() { summary }: TicketsContext): Promise<Money | null> {
    return (await summary(event.id)).lowestPrice;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description:
      "The currency most of its AVAILABLE tickets are priced in (ties: the first by code); null when there are none.",
  })
  async currency(@Root() event: EventState, @Ctx() { summary }: TicketsContext): Promise<string | null> {
    return (await summary(event.id)).currency;
  }

  @FieldResolver(() => [Money], {
    description: "The lowest price in each currency of its AVAILABLE tickets, the event's currency first.",
  })
  async lowestPrices(@Root() event: EventState, @Ctx() { summary }: TicketsContext): Promise<Money[]> {
    return (await summary(event.id)).lowestPrices;
  }

  @FieldResolver(() => TicketConnection, {
    description: "Its tickets except withdrawn ones, newest listing first.",
  })
  tickets(
    @Root() event: EventState,
    @Arg("first", () => Int, { nullable: true, description: "20 when absent, at most 100." })
    first: number | null | undefined,
    @Arg("after", () => String, { nullable: true }) after: string | null | undefined,
    @Ctx() { listings }: TicketsContext,
  ): Promise<Page<TicketState>> {
    return listings.ofEvent(event.id, first, after);
  }
}

/** Other subgraphs refer to events by id; one that does not exist resolves to null. */
export const eventReference = {
  __resolveReference: (reference: Record<string, unknown>, { catalog }: TicketsContext) =>
    typeof reference.id === "string" ? catalog.event(reference.id) : null,
};
