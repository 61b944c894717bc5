import { DateTimeScalar, unauthenticated, type Viewer } from "@ticketing/shared-runtime";
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
import type { PassState } from "../domain/passes.js";
import type { CheckInOutcome } from "../passes.js";
import type { PassesContext } from "./context.js";
import { Event, Ticket, User } from "./references.js";

export enum PassStatus {
  VALID = "VALID",
  TRANSFERRED = "TRANSFERRED",
  RESOLD = "RESOLD",
  CHECKED_IN = "CHECKED_IN",
  VOID = "VOID",
}
registerEnumType(PassStatus, { name: "PassStatus" });

export enum PassHoldingEnd {
  TRANSFERRED = "TRANSFERRED",
  RESOLD = "RESOLD",
}
registerEnumType(PassHoldingEnd, { name: "PassHoldingEnd" });

export enum CheckInRefusal {
  MALFORMED = "MALFORMED",
  FORGED = "FORGED",
  OTHER_EVENT = "OTHER_EVENT",
  STALE = "STALE",
  TRANSFERRED = "TRANSFERRED",
  RESOLD = "RESOLD",
  ALREADY_CHECKED_IN = "ALREADY_CHECKED_IN",
  LISTED = "LISTED",
  VOID = "VOID",
  UNKNOWN_PASS = "UNKNOWN_PASS",
}
registerEnumType(CheckInRefusal, { name: "CheckInRefusal" });

@ObjectType({ description: "One holder's time with a pass." })
export class PassHolding {
  @Field(() => Int)
  issue!: number;

  @Field(() => User)
  holder!: User;

  @Field(() => DateTimeScalar)
  from!: string;

  @Field(() => DateTimeScalar, { nullable: true, description: "Null while it lasts." })
  to!: string | null;

  @Field(() => PassHoldingEnd, { nullable: true })
  endedBy!: PassHoldingEnd | null;
}

@ObjectType({ description: "A transfer offered and not yet accepted." })
export class PassTransfer {
  @Field(() => User)
  to!: User;

  @Field(() => String)
  toEmail!: string;

  @Field(() => DateTimeScalar)
  offeredAt!: string;
}

@Directive('@key(fields: "id")')
@ObjectType({ description: "What a fan enters the venue with: one per purchased ticket." })
export class Pass {
  @Field(() => ID)
  id!: string;

  @Field(() => Int, {
    description: "Starts at 1; each re-issue to a new holder raises it and kills every earlier code.",
  })
  issue!: number;

  @Field(() => DateTimeScalar, { nullable: true })
  checkedInAt!: string | null;

  @Field(() => String, { description: "The title of the ticket bought." })
  title!: string;

  @Field(() => String, { nullable: true })
  section!: string | null;
}

@ObjectType({
  description: "What a scanner needs to verify codes offline: the key, the step and the window.",
})
export class PassKey {
  @Field(() => ID)
  eventId!: string;

  @Field(() => ID)
  keyId!: string;

  @Field(() => String, { description: "Ed25519" })
  algorithm!: string;

  @Field(() => String, { description: "The raw 32-byte public key, base64url." })
  publicKey!: string;

  @Field(() => String, { description: "The public key as a JWK (JSON)." })
  jwk!: string;

  @Field(() => Int)
  stepSeconds!: number;

  @Field(() => Int, { description: "A code is accepted this many steps either side of the scanner's." })
  windowSteps!: number;
}

@ObjectType({ description: "A gate's answer: admitted, or why not." })
export class CheckInResult {
  @Field(() => Boolean)
  admitted!: boolean;

  @Field(() => CheckInRefusal, { nullable: true, description: "Null when admitted." })
  refusal!: CheckInRefusal | null;

  @Field(() => String, { description: "For the scanner's screen." })
  message!: string;

  @Field(() => Pass, { nullable: true, description: "The pass the code is of, when it is a genuine one." })
  pass!: PassState | null;

  @Field(() => DateTimeScalar, { nullable: true, description: "When it was admitted (now, or before)." })
  checkedInAt!: string | null;
}

/** The Order entity of orders, with the passes it issued. */
@Directive('@key(fields: "id")')
@ObjectType()
export class Order {
  @Field(() => ID)
  id!: string;
}

function signedIn(viewer: Viewer) {
  if (!viewer) throw unauthenticated();
  return viewer;
}

@Resolver(() => Pass)
export class PassResolver {
  @Authorized()
  @Query(() => [Pass], { description: "The passes the signed-in user holds or held, newest first." })
  myPasses(@Ctx() { passes, viewer }: PassesContext): Promise<PassState[]> {
    return passes.mine(signedIn(viewer));
  }

  @Authorized()
  @Query(() => [Pass], {
    description: "Passes offered to the signed-in user, waiting for acceptPassTransfer.",
  })
  incomingPassTransfers(@Ctx() { passes, viewer }: PassesContext): Promise<PassState[]> {
    return passes.incoming(signedIn(viewer));
  }

  @Authorized()
  @Query(() => Pass, {
    nullable: true,
    description:
      "A pass, for its holders (now or before), its transfer's recipient, OPS and STAFF; else null.",
  })
  pass(@Arg("id", () => ID) id: string, @Ctx() { passes, viewer }: PassesContext): Promise<PassState | null> {
    return passes.pass(signedIn(viewer), id);
  }

  @Query(() => PassKey, {
    description: "The key an event's pass codes are signed with, for scanners; public.",
  })
  eventPassKey(@Arg("eventId", () => ID) eventId: string, @Ctx() { passes }: PassesContext): PassKey {
    const { jwk, ...key } = passes.publicKey();
    return { ...key, eventId, jwk: JSON.stringify(jwk) };
  }

  @Authorized("OPS", "STAFF")
  @Mutation(() => CheckInResult, {
    description:
      "Admits the pass of a code once; every other scan of it is refused with the reason. OPS and STAFF.",
  })
  checkIn(
    @Arg("eventId", () => ID, { description: "The event this gate admits to." }) eventId: string,
    @Arg("code", () => String) code: string,
    @Ctx() { passes, viewer, requestId }: PassesContext,
  ): Promise<CheckInOutcome> {
    return passes.checkIn(signedIn(viewer), eventId, code, requestId);
  }

  @Authorized()
  @Mutation(() => Pass, { description: "The holder offers the pass to the account with this email." })
  offerPassTransfer(
    @Arg("passId", () => ID) passId: string,
    @Arg("email", () => String) email: string,
    @Ctx() { passes, viewer, requestId }: PassesContext,
  ): Promise<PassState> {
    return passes.offerTransfer(signedIn(viewer), passId, email, requestId);
  }

  @Authorized()
  @Mutation(() => Pass, {
    description: "The recipient takes the pass: it is re-issued to them, the old codes die.",
  })
  acceptPassTransfer(
    @Arg("passId", () => ID) passId: string,
    @Ctx() { passes, viewer, requestId }: PassesContext,
  ): Promise<PassState> {
    return passes.acceptTransfer(signedIn(viewer), passId, requestId);
  }

  @Authorized()
  @Mutation(() => Pass, { description: "The holder withdraws a pending transfer." })
  cancelPassTransfer(
    @Arg("passId", () => ID) passId: string,
    @Ctx() { passes, viewer, requestId }: PassesContext,
  ): Promise<PassState> {
    return passes.cancelTransfer(signedIn(viewer), passId, requestId);
  }

  @FieldResolver(() => Event)
  event(@Root() pass: PassState): Event {
    return { id: pass.eventId };
  }

  @FieldResolver(() => Ticket)
  ticket(@Root() pass: PassState): Ticket {
    return { id: pass.ticketId };
  }

  @FieldResolver(() => User, { description: "The current holder." })
  holder(@Root() pass: PassState): User {
    return { id: pass.holderId };
  }

  @FieldResolver(() => PassStatus, {
    description: "As the viewer holds it: TRANSFERRED or RESOLD to a former holder.",
  })
  status(@Root() pass: PassState, @Ctx() { passes, viewer }: PassesContext): PassStatus {
    return (viewer ? passes.statusFor(viewer, pass) : pass.status) as PassStatus;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: "The QR payload now; it rotates every step. The current holder of a VALID pass only.",
  })
  code(@Root() pass: PassState, @Ctx() { passes, viewer }: PassesContext): string | null {
    return viewer ? (passes.code(viewer, pass)?.code ?? null) : null;
  }

  @FieldResolver(() => DateTimeScalar, { nullable: true, description: "When `code` stops being accepted." })
  codeExpiresAt(@Root() pass: PassState, @Ctx() { passes, viewer }: PassesContext): Date | null {
    return viewer ? (passes.code(viewer, pass)?.expiresAt ?? null) : null;
  }

  @FieldResolver(() => PassTransfer, {
    nullable: true,
    description: "Shown to the holder and the recipient.",
  })
  pendingTransfer(@Root() pass: PassState, @Ctx() { viewer }: PassesContext): PassTransfer | null {
    const pending = pass.pendingTransfer;
    if (!pending || !viewer || (viewer.userId !== pass.holderId && viewer.userId !== pending.toId))
      return null;
    return { to: { id: pending.toId }, toEmail: pending.toEmail, offeredAt: pending.offeredAt };
  }

  @FieldResolver(() => [PassHolding], { description: "Who held it, oldest first." })
  history(@Root() pass: PassState): PassHolding[] {
    return pass.holdings.map((holding) => ({
      issue: holding.issue,
      holder: { id: holding.holderId },
      from: holding.from,
      to: holding.to,
      endedBy: holding.endedBy as PassHoldingEnd | null,
    }));
  }
}

@Resolver(() => Order)
export class OrderPassesResolver {
  @FieldResolver(() => [Pass], { description: "The passes this order issued (one, once it is paid)." })
  passes(@Root() order: Order, @Ctx() { passes, viewer }: PassesContext): Promise<PassState[]> {
    return viewer ? passes.ofOrder(viewer, order.id) : Promise.resolve([]);
  }
}

/** Tickets and orders may refer to passes; only those who may see one get it back. */
export const passReference = {
  __resolveReference: async (reference: Record<string, unknown>, { passes, viewer }: PassesContext) => {
    if (typeof reference.id !== "string" || !viewer) return null;
    return passes.pass(viewer, reference.id);
  },
};

export const orderReference = {
  __resolveReference: (reference: Record<string, unknown>) =>
    typeof reference.id === "string" ? { id: reference.id } : null,
};
