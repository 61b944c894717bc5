import { useQuery, useSubscription } from "@apollo/client/react";
import { Link, useParams } from "react-router";
import { EventDocument, TicketChangesDocument, type EventQuery } from "../gql/graphql.js";
import { DateText, MoneyText } from "../components/MoneyText.js";
import { Empty, ErrorMessage, Loading } from "../components/Feedback.js";
import { LiveBadge, POLL_MS, useLiveState } from "../live/useLive.js";

type Listing = NonNullable<EventQuery["event"]>["tickets"]["edges"][number]["node"];

/** What a fan sees of an event's tickets: sold and withdrawn ones are gone, reserved ones greyed. */
export function visibleTickets(listings: Listing[]): Listing[] {
  return listings.filter((ticket) => ticket.status === "AVAILABLE" || ticket.status === "RESERVED");
}

export function EventPage() {
  const { id = "" } = useParams();
  const live = useLiveState();
  const subscribed = live !== "unavailable";
  const { data, loading, error, refetch } = useQuery(EventDocument, {
    variables: { id, first: 100 },
    // Live updates arrive through the subscription below; without it, ask again every few seconds.
    pollInterval: live === "live" ? 0 : POLL_MS,
  });
  useSubscription(TicketChangesDocument, {
    variables: { eventId: id },
    skip: !subscribed,
    onData: ({ data: change }) => {
      const ticket = change.data?.ticketChanged;
      // A changed ticket updates itself in the cache (Ticket:id); a new one needs the list again.
      const known = data?.event?.tickets.edges.some(({ node }) => node.id === ticket?.id);
      if (ticket && !known) void refetch();
    },
    onError: () => undefined,
  });

  if (loading && !data) return <Loading>Loading the event…</Loading>;
  if (error && !data) return <ErrorMessage error={error} />;
  const event = data?.event;
  if (!event) {
    return (
      <section className="page">
        <h1>Event not found</h1>
        <p>This event doesn't exist or was removed.</p>
        <Link to="/">Back to the events</Link>
      </section>
    );
  }
  const tickets = visibleTickets(event.tickets.edges.map(({ node }) => node));
  const available = tickets.filter((ticket) => ticket.status === "AVAILABLE").length;

  return (
    <section className="page">
      <h1>{event.name}</h1>
      <p className="meta">
        <DateText iso={event.startsAt} /> · {event.venue}, {event.city}
        {event.category && <span className="tag">{event.category}</span>}
      </p>
      <LiveBadge state={live} polling="Availability refreshes every few seconds." />
      <h2>
        Tickets <span className="count">({available} available)</span>
      </h2>
      {tickets.length === 0 ? (
        <Empty>
          No tickets for this event right now. <Link to={`/sell?event=${event.id}`}>Sell one</Link>
        </Empty>
      ) : (
        <ul className="tickets" aria-live="polite">
          {tickets.map((ticket) => (
            <li
              key={ticket.id}
              className={`ticket ${ticket.status.toLowerCase()}`}
              data-ticket-id={ticket.id}
            >
              <div>
                <strong>{ticket.title}</strong>
                {ticket.section && <span className="section"> · Section {ticket.section}</span>}
                <div className="seller">Sold by {ticket.seller.displayName}</div>
              </div>
              <MoneyText money={ticket.price} />
              {ticket.status === "AVAILABLE" ? (
                <Link className="button primary" to={`/tickets/${ticket.id}`}>
                  View<span className="visually-hidden"> {ticket.title}</span>
                </Link>
              ) : (
                <span className="status">Reserved</span>
              )}
            </li>
          ))}
        </ul>
      )}
      {error && <ErrorMessage error={error} />}
    </section>
  );
}
