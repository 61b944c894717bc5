import { unauthenticated, type Viewer, PageInfo, Money, MoneyInput } from "@ticketing/shared-runtime";
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
  registerEnumType,
  Resolver,
  Root,
} from "type-graphql";
import type { EventState } from "../domain/catalog.js";
import type { TicketState } from "../domain/tickets.js";
import type { TicketsContext } from "./context.js";
import { parseResaleListingId } from "@ticketing/shared-events";
import { Event } from "./event.js";
import { User } from "./user.js";

export enum TicketStatus {
  AVAILABLE = "AVAILABLE",
  RESERVED = "RESERVED",
  SOLD = "SOLD",
  WITHDRAWN = "WITHDRAWN",
}

registerEnumType(TicketStatus, { name: "TicketStatus" });

@Directive('@key(fields: "id")')
@ObjectType({ description: "A ticket a fan offers for sale." })
export class Ticket {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  title!: string;

  @Field(() => String, { nullable: true })
  section!: string | null;

  @Field(() => Money)
  price!: Money;

  @Field(() => TicketStatus)
  status!: TicketStatus;

  @Field(() => Int, { description: "Starts at 1; every change raises it by one." })
  version!: number;
}

/** A pass as passes resolves it; a verified listing knows the id of the pass it resells. */
@Directive('@key(fields: "id", resolvable: false)')
@ObjectType()
export class Pass {
  @Field(() => ID)
  id!: string;
}

@InputType()
export class ListPassInput {
  @Field(() => ID)
  passId!: string;

  @Field(() => MoneyInput, { description: "At most the event's resale price cap." })
  price!: MoneyInput;
}

@ObjectType()
export class TicketEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Ticket)
  node!: Ticket;
}

@ObjectType()
export class TicketConnection {
  @Field(() => [TicketEdge])
  edges!: TicketEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@InputType()
export class ListTicketInput {
  @Field(() => ID)
  eventId!: string;

  @Field(() => String, { description: "1 to 120 characters, trimmed." })
  title!: string;

  @Field(() => String, { nullable: true, description: "At most 40 characters; blank means none." })
  section?: string | null;

  @Field(() => MoneyInput)
  price!: MoneyInput;
}

@InputType()
export class UpdateTicketInput {
  @Field(() => String, { nullable: true, description: "1 to 120 characters; absent or null keeps it." })
  title?: string | null;

  @Field(() => String, { nullable: true, description: "At most 40 characters; null or blank clears it." })
  section?: string | null;

  @Field(() => MoneyInput, { nullable: true })
  price?: MoneyInput | null;

  @Field(() => Int, {
    nullable: true,
    description: "The version the change was made on; CONFLICT when the ticket is at another one.",
  })
  expectedVersion?: number | null;
}

function signedIn(viewer: Viewer) {
  if (!viewer) throw unauthenticated();
  return viewer;
}

@Resolver(() => Ticket)
export class TicketResolver {
  @Query(() => Ticket, { nullable: true })
  ticket(@Arg("id", () => ID) id: string, @Ctx() { listings }: TicketsContext): Promise<TicketState | null> {
    return listings.ticket(id);
  }

  @Authorized()
  @Query(() => [Ticket], { description: "The signed-in user's tickets, every status, newest first." })
  myListings(@Ctx() { listings, viewer }: TicketsContext): Promise<TicketState[]> {
    return listings.mine(signedIn(viewer).userId);
  }

  @Authorized()
  @Mutation(() => Ticket)
  listTicket(
    @Arg("input", () => ListTicketInput) input: ListTicketInput,
    @Ctx() { listings, viewer, requestId }: TicketsContext,
  ): Promise<TicketState> {
    return listings.list(signedIn(viewer), input, requestId);
  }

  @Authorized()
  @Mutation(() => Ticket, { description: "The seller only, while the ticket is AVAILABLE." })
  updateTicket(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateTicketInput) input: UpdateTicketInput,
    @Ctx() { listings, viewer, requestId }: TicketsContext,
  ): Promise<TicketState> {
    return listings.update(signedIn(viewer), id, input, requestId);
  }

  @Authorized()
  @Mutation(() => Ticket, {
    description: "The seller only, unless RESERVED or SOLD; withdrawing twice is a no-op.",
  })
  withdrawTicket(
    @Arg("id", () => ID) id: string,
    @Ctx() { listings, viewer, requestId }: TicketsContext,
  ): Promise<TicketState> {
    return listings.withdraw(signedIn(viewer), id, requestId);
  }

  @FieldResolver(() => Event)
  async event(@Root() ticket: TicketState, @Ctx() { catalog }: TicketsContext): Promise<EventState> {
    const event = await catalog.event(ticket.eventId);
    if (!event) throw new Error(`ticket ${ticket.id} refers to the missing event ${ticket.eventId}`);
    return event;
  }

  @FieldResolver(() => User)
  seller(@Root() ticket: TicketState): User {
    return { id: ticket.sellerId };
  }

  @FieldResolver(() => Boolean, {
    description: "A pass resold through listPass (event, title and section from the pass), not free text.",
  })
  verified(@Root() ticket: TicketState): boolean {
    return parseResaleListingId(ticket.id) !== null;
  }

  @FieldResolver(() => Pass, { nullable: true, description: "The pass a verified listing resells." })
  pass(@Root() ticket: TicketState): Pass | null {
    const resale = parseResaleListingId(ticket.id);
    return resale ? { id: resale.passId } : null;
  }

  @Authorized()
  @Mutation(() => Ticket, {
    description:
      "Lists a pass the viewer holds for resale: a verified listing; BAD_USER_INPUT above the event's resale price cap.",
  })
  listPass(
    @Arg("input", () => ListPassInput) input: ListPassInput,
    @Ctx() { listings, viewer, requestId }: TicketsContext,
  ): Promise<TicketState> {
    return listings.listPass(signedIn(viewer), input, requestId);
  }
}

/** Other subgraphs (orders) refer to tickets by id; one that does not exist resolves to null. */
export const ticketReference = {
  __resolveReference: (reference: Record<string, unknown>, { listings }: TicketsContext) =>
    typeof reference.id === "string" ? listings.ticket(reference.id) : null,
};
