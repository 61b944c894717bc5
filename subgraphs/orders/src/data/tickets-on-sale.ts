// The tickets orders sells, held in memory (docs/adr/0004-two-writes-per-reservation.md): loaded
// from the `ticket_replica` collection at start, then followed on the stream from the ack floor
// of the consumer that writes that collection (every ticket event at or below it is in the
// collection), so the load and the follow meet without a gap. Each event carries the ticket's
// whole state: the newest version wins, whichever way it arrives.
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ensureConsumer, follow, STREAM } from "@ticketing/shared-events";
import type { Logger } from "pino";
import { ticketReplicaOf, type TicketReplica } from "./models.js";

export interface TicketsOnSale {
  /**
   * The ticket as orders last heard of it. For an id it has not heard of, it first follows the
   * stream up to its latest listing, so null means no such ticket was ever listed (a listing is
   * on the stream before `listTicket` answers).
   */
  find(ticketId: string): Promise<TicketReplica | null>;
  /** How many tickets are held. */
  size(): number;
  stop(): Promise<void>;
}

/** The subject that brings new tickets: the one an unknown id waits for. */
const LISTED = "ticketing.ticket.created";
/** How long an unknown id waits for the follower to reach the stream's latest listing. */
const CATCH_UP_MS = 2_000;

export async function followTicketsOnSale({
  nc,
  consumer,
  load,
  logger,
}: {
  nc: NatsConnection;
  /** The durable consumer that writes the collection, and its filter. */
  consumer: { durable: string; filterSubject: string };
  /** Every ticket in the collection. */
  load: () => AsyncIterable<TicketReplica>;
  logger: Logger;
}): Promise<TicketsOnSale> {
  const tickets = new Map<string, TicketReplica>();
  const hold = (ticket: TicketReplica) => {
    const held = tickets.get(ticket._id);
    if (!held || held.version < ticket.version) tickets.set(ticket._id, ticket);
  };

  await ensureConsumer(nc, consumer);
  const jsm = await jetstreamManager(nc);
  const floor = (await jsm.consumers.info(STREAM, consumer.durable)).ack_floor.stream_seq;
  for await (const ticket of load()) hold(ticket);
  const follower = await follow(
    nc,
    ["ticketing.ticket.created", "ticketing.ticket.updated"],
    { from: { after: floor }, logger: logger.child({ follower: "tickets-on-sale" }) },
    (event) => hold(ticketReplicaOf(event.data)),
  );
  logger.info({ tickets: tickets.size, from: floor }, "tickets on sale loaded");

  /** Waits until the follower has passed the stream's latest listing, for at most CATCH_UP_MS. */
  async function catchUp() {
    let latest: number;
    try {
      const message = await jsm.streams.getMessage(STREAM, { last_by_subj: LISTED });
      if (!message) return;
      latest = message.seq;
    } catch {
      return; // No listing on the stream at all, or NATS away: what is held is all there is.
    }
    const deadline = Date.now() + CATCH_UP_MS;
    while (follower.position() < latest && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  return {
    async find(ticketId) {
      const held = tickets.get(ticketId);
      if (held) return held;
      await catchUp();
      return tickets.get(ticketId) ?? null;
    },
    size: () => tickets.size,
    stop: () => follower.stop(),
  };
}
