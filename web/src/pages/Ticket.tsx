import { useState } from "react";
import { useMutation, useQuery, useSubscription } from "@apollo/client/react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import {
  CreateOrderDocument,
  MyOrdersDocument,
  TicketChangesDocument,
  TicketPageDocument,
} from "../gql/graphql.js";
import { DateText, MoneyText } from "../components/MoneyText.js";
import { ErrorMessage, Loading } from "../components/Feedback.js";
import { LiveBadge, POLL_MS, useLiveState } from "../live/useLive.js";
import { useViewer } from "../lib/session.js";

const STATUS: Record<string, string> = {
  AVAILABLE: "Available",
  RESERVED: "On hold",
  SOLD: "Sold",
  WITHDRAWN: "No longer offered",
};

/** What a fan is told about a ticket that cannot be bought right now; null when it can. */
export function unavailableNotice(status: string): string | null {
  switch (status) {
    case "AVAILABLE":
      return null;
    case "RESERVED":
      return "Another fan is holding this ticket while they pay. If they don't, it comes back on sale here.";
    case "SOLD":
      return "This ticket has been sold.";
    default:
      return "The seller no longer offers this ticket.";
  }
}

export function TicketPage() {
  const { id = "" } = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  const { viewer } = useViewer();
  const live = useLiveState();
  const { data, loading, error } = useQuery(TicketPageDocument, {
    variables: { id },
    // Changes arrive through the subscription below; without it, ask again every few seconds.
    pollInterval: live === "live" ? 0 : POLL_MS,
  });
  const eventId = data?.ticket?.event.id;
  // Each change of a ticket of this event updates its Ticket:id in the cache, this one's included.
  useSubscription(TicketChangesDocument, {
    variables: { eventId: eventId ?? "" },
    skip: !eventId || live === "unavailable",
    onError: () => undefined,
  });
  // A hold may be the viewer's own: then the way on is their order, not a wait.
  const held = data?.ticket?.status === "RESERVED" && !!viewer;
  const myOrders = useQuery(MyOrdersDocument, { variables: { first: 50 }, skip: !held });
  const myHold = held
    ? myOrders.data?.myOrders.edges.find(
        ({ node }) => node.ticket.id === id && node.status === "AWAITING_PAYMENT",
      )?.node
    : undefined;
  const [createOrder, { loading: buying }] = useMutation(CreateOrderDocument);
  const [buyError, setBuyError] = useState<unknown>();

  if (loading && !data) return <Loading>Loading the ticket…</Loading>;
  if (error && !data) return <ErrorMessage error={error} />;
  const ticket = data?.ticket;
  if (!ticket) {
    return (
      <section className="page">
        <h1>Ticket not found</h1>
        <p>This ticket is no longer listed.</p>
        <Link to="/">Back to the events</Link>
      </section>
    );
  }
  const own = viewer?.id === ticket.seller.id;
  const notice = unavailableNotice(ticket.status);
  const onSale = ticket.status === "AVAILABLE" || ticket.status === "RESERVED";

  const buy = async () => {
    setBuyError(undefined);
    try {
      const result = await createOrder({ variables: { ticketId: ticket.id } });
      if (result.data) void navigate(`/orders/${result.data.createOrder.id}`);
    } catch (caught) {
      setBuyError(caught);
    }
  };

  return (
    <section className="page narrow">
      <p>
        <Link to={`/events/${ticket.event.id}`}>← {ticket.event.name}</Link>
      </p>
      <h1>{ticket.title}</h1>
      <dl className="facts">
        <dt>Event</dt>
        <dd>
          {ticket.event.name}, <DateText iso={ticket.event.startsAt} />
        </dd>
        <dt>Venue</dt>
        <dd>
          {ticket.event.venue}, {ticket.event.city}
        </dd>
        {ticket.section && (
          <>
            <dt>Section</dt>
            <dd>{ticket.section}</dd>
          </>
        )}
        <dt>Seller</dt>
        <dd>{ticket.seller.displayName}</dd>
        <dt>Price</dt>
        <dd className="price">
          <MoneyText money={ticket.price} />
        </dd>
        <dt>Status</dt>
        <dd className={`ticket-status ${ticket.status.toLowerCase()}`}>
          {STATUS[ticket.status] ?? ticket.status}
        </dd>
      </dl>
      <div aria-live="polite">
        {myHold ? (
          <p className="notice">
            You are holding this ticket. <Link to={`/orders/${myHold.id}`}>Pay for it on your order</Link>
          </p>
        ) : (
          notice && <p className="notice">{notice}</p>
        )}
        {onSale && (
          <LiveBadge state={live} polling="This page checks the ticket's status every few seconds." />
        )}
      </div>
      {own ? (
        <p>
          This is your listing. <Link to="/listings">Manage your listings</Link>
        </p>
      ) : !onSale ? (
        <p>
          <Link to={`/events/${ticket.event.id}`}>See the other tickets for {ticket.event.name}</Link>
        </p>
      ) : !viewer ? (
        ticket.status === "AVAILABLE" && (
          <p>
            <Link className="button primary" to={`/signin?next=${encodeURIComponent(location.pathname)}`}>
              Sign in to buy
            </Link>
          </p>
        )
      ) : (
        <button
          type="button"
          className="primary"
          onClick={() => void buy()}
          disabled={buying || ticket.status !== "AVAILABLE"}
        >
          {buying ? "Reserving…" : "Buy"}
        </button>
      )}
      <ErrorMessage error={buyError} action="createOrder" />
    </section>
  );
}
