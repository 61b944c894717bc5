// The passes domain: a pass per completed order, every change of it an append of its next version,
// so check-ins racing on one code admit once, and a transfer racing a check-in is one or the other
// (docs/adr/0007-passes.md).
import { createHash } from "node:crypto";
import {
  parseResaleListingId,
  RetryLater,
  type AggregateLog,
  type Decision,
  type PassSubject,
  type Payload,
  type Publisher,
} from "@ticketing/shared-events";
import { badUserInput, conflict, forbidden, notFound, type Identity } from "@ticketing/shared-runtime";
import type { Codes, PublicPassKey } from "./codes.js";
import type { PassStore } from "./data/store.js";
import { endOf, publicState, type PassState, type PassStatus } from "./domain/passes.js";

export type PassLog = AggregateLog<PassState, PassSubject>;

export type CheckInRefusal =
  | "MALFORMED"
  | "FORGED"
  | "OTHER_EVENT"
  | "STALE"
  | "TRANSFERRED"
  | "RESOLD"
  | "ALREADY_CHECKED_IN"
  | "LISTED"
  | "VOID"
  | "UNKNOWN_PASS";

export interface CheckInOutcome {
  admitted: boolean;
  refusal: CheckInRefusal | null;
  message: string;
  pass: PassState | null;
  checkedInAt: string | null;
}

/** A pass as one viewer sees it: a former holder's shows how it left them. */
export type ViewStatus = PassStatus | "TRANSFERRED" | "RESOLD";

export interface Passes {
  /**
   * A completed order: a new pass to its buyer, or, for a verified resale listing, the pass
   * re-issued to its buyer. RetryLater while the order, the ticket or the listing is not known.
   */
  issue(completed: Payload<"ticketing.order.completed">, causationId: string): Promise<void>;
  /** A verified listing's ticket changed: the pass is listed (or the listing rejected) or unlisted. */
  listingChanged(ticket: Payload<"ticketing.ticket.updated">, causationId: string): Promise<void>;
  checkIn(scanner: Identity, eventId: string, code: string, requestId?: string): Promise<CheckInOutcome>;
  offerTransfer(holder: Identity, passId: string, email: string, requestId?: string): Promise<PassState>;
  acceptTransfer(recipient: Identity, passId: string, requestId?: string): Promise<PassState>;
  cancelTransfer(holder: Identity, passId: string, requestId?: string): Promise<PassState>;
  /** A pass for its holders (now or before), the recipient of its transfer, OPS and STAFF; else null. */
  pass(viewer: Identity, passId: string): Promise<PassState | null>;
  mine(viewer: Identity): Promise<PassState[]>;
  incoming(viewer: Identity): Promise<PassState[]>;
  ofOrder(viewer: Identity, orderId: string): Promise<PassState[]>;
  statusFor(viewer: Identity, pass: PassState): ViewStatus;
  /** The current code, for the holder of a VALID pass; null for anyone else. */
  code(viewer: Identity, pass: PassState): { code: string; expiresAt: Date } | null;
  publicKey(): PublicPassKey;
}

/** The pass of an order: derived from the order id, so a second `order.completed` finds it. */
export function passIdOf(orderId: string): string {
  const hex = createHash("sha256").update(`pass:${orderId}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const isDoorStaff = (viewer: Identity) => viewer.roles.includes("OPS") || viewer.roles.includes("STAFF");
const EMAIL = /^[^\s@]+@[^\s@]+$/;

function refusalOf(pass: PassState | null, issue: number): CheckInRefusal | null {
  if (!pass) return "UNKNOWN_PASS";
  if (issue !== pass.issue) return endOf(pass, issue) === "RESOLD" ? "RESOLD" : "TRANSFERRED";
  if (pass.status === "CHECKED_IN") return "ALREADY_CHECKED_IN";
  if (pass.status === "VOID") return "VOID";
  if (pass.listingTicketId !== null) return "LISTED";
  return null;
}

const MESSAGES: Record<CheckInRefusal, string> = {
  MALFORMED: "Not a pass code",
  FORGED: "Forged code: its signature does not match",
  OTHER_EVENT: "This pass is for another event",
  STALE: "Expired code: ask the holder to show the live code",
  TRANSFERRED: "This pass was transferred: only its new holder's code admits",
  RESOLD: "This pass was resold: only its new holder's code admits",
  ALREADY_CHECKED_IN: "Already checked in",
  LISTED: "This pass is listed for resale",
  VOID: "This pass is void",
  UNKNOWN_PASS: "No such pass",
};

function refused(refusal: CheckInRefusal, pass: PassState | null = null): CheckInOutcome {
  const checkedInAt = refusal === "ALREADY_CHECKED_IN" ? (pass?.checkedInAt ?? null) : null;
  return {
    admitted: false,
    refusal,
    message: checkedInAt ? `${MESSAGES[refusal]} at ${checkedInAt}` : MESSAGES[refusal],
    pass,
    checkedInAt,
  };
}

export function createPasses({
  log,
  store,
  codes,
  publisher,
}: {
  log: PassLog;
  store: PassStore;
  codes: Codes;
  publisher: Publisher;
}): Passes {
  const canSee = (viewer: Identity, pass: PassState) =>
    pass.holderIds.includes(viewer.userId) ||
    pass.pendingTransfer?.toId === viewer.userId ||
    isDoorStaff(viewer);

  /** Runs a holder's command; throws its refusal, returns the new state. */
  async function command(
    passId: string,
    decide: (pass: PassState | null) => Decision<PassSubject>,
    requestId?: string,
  ): Promise<PassState> {
    if (typeof passId !== "string" || passId.length === 0 || passId.length > 200) {
      throw badUserInput("passId is not a pass id", "passId");
    }
    const result = await log.execute(passId, decide, { requestId, maxAttempts: 100 });
    if (!result.state) throw notFound("No pass has this id");
    return result.state;
  }

  function transferable(pass: PassState | null, holder: Identity): PassState {
    if (!pass) throw notFound("No pass has this id");
    if (pass.holderId !== holder.userId) throw forbidden("Only the pass's holder can do this");
    if (pass.status === "CHECKED_IN") throw conflict("This pass is checked in and cannot be transferred");
    if (pass.status === "VOID") throw conflict("This pass is void");
    if (pass.listingTicketId !== null)
      throw conflict("This pass is listed for resale: withdraw the listing first");
    return pass;
  }

  return {
    async issue(completed, causationId) {
      const order = await store.order(completed.id);
      if (!order) throw new RetryLater(`order ${completed.id} is not known yet`);
      const resale = parseResaleListingId(completed.ticketId);
      if (resale) {
        let waiting = false;
        await log.execute(
          resale.passId,
          (pass) => {
            waiting = false;
            if (!pass || pass.issue !== resale.issue) return null;
            // The listing reaches passes by tickets' consumer, the sale by orders': wait for it.
            if (pass.listingTicketId !== completed.ticketId) {
              waiting = pass.status === "VALID" && pass.listingTicketId === null;
              return null;
            }
            return {
              subject: "ticketing.pass.reissued",
              data: {
                ...publicState({
                  ...pass,
                  holderId: order.buyerId,
                  issue: pass.issue + 1,
                  listingTicketId: null,
                }),
                previousHolderId: pass.holderId,
                reason: "RESALE",
                orderId: completed.id,
              },
            };
          },
          { causationId, maxAttempts: 100 },
        );
        if (waiting) throw new RetryLater(`the listing ${completed.ticketId} has not reached its pass yet`);
        return;
      }
      const ticket = await store.ticket(completed.ticketId);
      if (!ticket) throw new RetryLater(`ticket ${completed.ticketId} is not known yet`);
      const id = passIdOf(completed.id);
      await log.execute(
        id,
        (pass) =>
          pass
            ? null
            : {
                subject: "ticketing.pass.issued",
                data: {
                  id,
                  eventId: ticket.eventId,
                  ticketId: completed.ticketId,
                  holderId: order.buyerId,
                  issue: 1,
                  status: "VALID",
                  listingTicketId: null,
                  orderId: completed.id,
                  title: ticket.title,
                  section: ticket.section,
                },
              },
        { causationId, creates: true },
      );
    },

    async listingChanged(ticket, causationId) {
      const resale = parseResaleListingId(ticket.id);
      if (!resale) return;
      if (ticket.status === "AVAILABLE") {
        let rejected = false;
        await log.execute(
          resale.passId,
          (pass) => {
            rejected = false;
            if (pass?.listingTicketId === ticket.id) return null;
            if (!pass || pass.issue !== resale.issue || refusalOf(pass, pass.issue) !== null) {
              rejected = true;
              return null;
            }
            return {
              subject: "ticketing.pass.listed",
              data: publicState({ ...pass, listingTicketId: ticket.id }),
            };
          },
          { causationId, maxAttempts: 100 },
        );
        if (rejected) {
          await publisher.publish(
            "ticketing.pass.listing_rejected",
            { passId: resale.passId, ticketId: ticket.id },
            // A fixed id per listing version: a redelivery's rejection is dropped by the stream.
            { aggregateId: resale.passId, id: `listing-rejected:${ticket.id}:${ticket.version}` },
          );
        }
      } else if (ticket.status === "WITHDRAWN") {
        await log.execute(
          resale.passId,
          (pass) =>
            pass?.listingTicketId === ticket.id
              ? { subject: "ticketing.pass.unlisted", data: publicState({ ...pass, listingTicketId: null }) }
              : null,
          { causationId, maxAttempts: 100 },
        );
      }
    },

    async checkIn(scanner, eventId, code, requestId) {
      if (typeof eventId !== "string" || eventId.length === 0 || eventId.length > 200) {
        throw badUserInput("eventId is not an event id", "eventId");
      }
      const read = codes.read(code);
      if (!read.ok) return refused(read.refusal);
      const { claims } = read;
      if (claims.eventId !== eventId) return refused("OTHER_EVENT");
      // A stale code of a pass that was transferred, resold or used is told as such: it says more.
      const fresh = codes.fresh(claims);
      const result = await log.execute(
        claims.passId,
        (pass) =>
          pass && refusalOf(pass, claims.issue) === null && fresh
            ? {
                subject: "ticketing.pass.checked_in",
                data: { ...publicState({ ...pass, status: "CHECKED_IN" }), checkedInBy: scanner.userId },
              }
            : null,
        { requestId, maxAttempts: 100 },
      );
      if (result.outcome === "appended") {
        return {
          admitted: true,
          refusal: null,
          message: "Admitted",
          pass: result.state,
          checkedInAt: result.state.checkedInAt,
        };
      }
      const refusal = refusalOf(result.state, claims.issue) ?? (fresh ? "ALREADY_CHECKED_IN" : "STALE");
      return refused(refusal, refusal === "STALE" || refusal === "UNKNOWN_PASS" ? null : result.state);
    },

    async offerTransfer(holder, passId, email, requestId) {
      const trimmed = typeof email === "string" ? email.trim() : "";
      if (trimmed.length > 254 || !EMAIL.test(trimmed)) throw badUserInput("Not an email address", "email");
      const recipient = await store.userByEmail(trimmed);
      if (!recipient) throw badUserInput("No account has this email", "email");
      if (recipient === holder.userId) throw badUserInput("This is your own account", "email");
      return command(
        passId,
        (current) => {
          const pass = transferable(current, holder);
          return {
            subject: "ticketing.pass.transfer_offered",
            data: { ...publicState(pass), toId: recipient, toEmail: trimmed.toLowerCase() },
          };
        },
        requestId,
      );
    },

    acceptTransfer: (recipient, passId, requestId) =>
      command(
        passId,
        (current) => {
          if (!current) throw notFound("No pass has this id");
          if (current.pendingTransfer?.toId !== recipient.userId) {
            throw forbidden("This pass is not being transferred to you");
          }
          const pass = transferable(current, { ...recipient, userId: current.holderId });
          return {
            subject: "ticketing.pass.reissued",
            data: {
              ...publicState({ ...pass, holderId: recipient.userId, issue: pass.issue + 1 }),
              previousHolderId: pass.holderId,
              reason: "TRANSFER",
              orderId: null,
            },
          };
        },
        requestId,
      ),

    cancelTransfer: (holder, passId, requestId) =>
      command(
        passId,
        (pass) => {
          if (!pass) throw notFound("No pass has this id");
          if (pass.holderId !== holder.userId) throw forbidden("Only the pass's holder can do this");
          if (!pass.pendingTransfer) throw conflict("No transfer of this pass is pending");
          return { subject: "ticketing.pass.transfer_cancelled", data: publicState(pass) };
        },
        requestId,
      ),

    async pass(viewer, passId) {
      const pass = await log.read(passId);
      return pass && canSee(viewer, pass) ? pass : null;
    },

    mine: (viewer) => store.passesOf(viewer.userId),

    incoming: (viewer) => store.offeredTo(viewer.userId),

    async ofOrder(viewer, orderId) {
      // A purchase issued the pass of its id; a resale purchase got the listed pass re-issued.
      let pass = await log.read(passIdOf(orderId));
      if (!pass) {
        const ticketId = (await store.order(orderId))?.ticketId;
        const resale = ticketId ? parseResaleListingId(ticketId) : null;
        pass = resale ? await log.read(resale.passId) : null;
        if (pass && !pass.holdings.some((holding) => holding.issue > (resale?.issue ?? 0))) pass = null;
      }
      return pass && canSee(viewer, pass) ? [pass] : [];
    },

    statusFor(viewer, pass) {
      if (pass.holderId === viewer.userId || !pass.holderIds.includes(viewer.userId)) return pass.status;
      const left = pass.holdings.filter((holding) => holding.holderId === viewer.userId).at(-1);
      return left?.endedBy ?? pass.status;
    },

    code(viewer, pass) {
      if (pass.holderId !== viewer.userId || refusalOf(pass, pass.issue) !== null) return null;
      const now = Date.now();
      return { code: codes.make(pass, now), expiresAt: codes.expiresAt(now) };
    },

    publicKey: () => codes.publicKey(),
  };
}
