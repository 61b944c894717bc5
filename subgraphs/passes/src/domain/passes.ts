import type { Envelope, PassSubject, Payload } from "@ticketing/shared-events";

export type PassStatus = Payload<"ticketing.pass.issued">["status"];
export type HoldingEnd = "TRANSFERRED" | "RESOLD";

/** One holder's time with a pass: from its issue to the next one (null while it lasts). */
export interface Holding {
  issue: number;
  holderId: string;
  from: string;
  to: string | null;
  endedBy: HoldingEnd | null;
}

export interface PendingTransfer {
  toId: string;
  toEmail: string;
  offeredAt: string;
}

/** A pass as the `passes` projection keeps it; `version` is its position in `pass_events`. */
export interface PassState {
  id: string;
  eventId: string;
  ticketId: string;
  orderId: string;
  title: string;
  section: string | null;
  holderId: string;
  issue: number;
  status: PassStatus;
  listingTicketId: string | null;
  checkedInAt: string | null;
  checkedInBy: string | null;
  pendingTransfer: PendingTransfer | null;
  holdings: Holding[];
  /** Everyone who held it, the holder included: whose history it is in. */
  holderIds: string[];
  version: number;
}

export const PASS_LOG = { logCollection: "pass_events", projectionCollection: "passes" } as const;

/** What every `pass.*` event carries: the pass's public state after the change. */
export function publicState(pass: Omit<PassState, "version">): Payload<"ticketing.pass.transfer_cancelled"> {
  return {
    id: pass.id,
    eventId: pass.eventId,
    ticketId: pass.ticketId,
    holderId: pass.holderId,
    issue: pass.issue,
    status: pass.status,
    listingTicketId: pass.listingTicketId,
  };
}

export function evolvePass(
  state: PassState | null,
  event: Envelope<PassSubject>,
): Omit<PassState, "version"> {
  if (event.subject === "ticketing.pass.issued") {
    const { data } = event;
    return {
      id: data.id,
      eventId: data.eventId,
      ticketId: data.ticketId,
      orderId: data.orderId,
      title: data.title,
      section: data.section,
      holderId: data.holderId,
      issue: data.issue,
      status: data.status,
      listingTicketId: data.listingTicketId,
      checkedInAt: null,
      checkedInBy: null,
      pendingTransfer: null,
      holdings: [
        { issue: data.issue, holderId: data.holderId, from: event.occurredAt, to: null, endedBy: null },
      ],
      holderIds: [data.holderId],
    };
  }
  if (!state) throw new Error(`${event.subject} cannot start a pass`);
  switch (event.subject) {
    case "ticketing.pass.transfer_offered":
      return {
        ...state,
        pendingTransfer: { toId: event.data.toId, toEmail: event.data.toEmail, offeredAt: event.occurredAt },
      };
    case "ticketing.pass.transfer_cancelled":
      return { ...state, pendingTransfer: null };
    case "ticketing.pass.reissued": {
      const { data } = event;
      const endedBy: HoldingEnd = data.reason === "TRANSFER" ? "TRANSFERRED" : "RESOLD";
      return {
        ...state,
        holderId: data.holderId,
        issue: data.issue,
        status: data.status,
        listingTicketId: data.listingTicketId,
        pendingTransfer: null,
        holdings: [
          ...state.holdings.map((holding) =>
            holding.to === null ? { ...holding, to: event.occurredAt, endedBy } : holding,
          ),
          { issue: data.issue, holderId: data.holderId, from: event.occurredAt, to: null, endedBy: null },
        ],
        holderIds: state.holderIds.includes(data.holderId)
          ? state.holderIds
          : [...state.holderIds, data.holderId],
      };
    }
    case "ticketing.pass.listed":
    case "ticketing.pass.unlisted":
      return { ...state, listingTicketId: event.data.listingTicketId, pendingTransfer: null };
    case "ticketing.pass.checked_in":
      return {
        ...state,
        status: "CHECKED_IN",
        pendingTransfer: null,
        checkedInAt: event.occurredAt,
        checkedInBy: event.data.checkedInBy,
      };
  }
}

/** How the holding of `issue` ended, if it did. */
export const endOf = (pass: PassState, issue: number): HoldingEnd | null =>
  pass.holdings.find((holding) => holding.issue === issue)?.endedBy ?? null;
