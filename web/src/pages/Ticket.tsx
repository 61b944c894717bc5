import { useEffect, useRef, useState } from "react";
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
import { refusal } from "../lib/errors.js";
import { useViewer } from "../lib/session.js";

/**
 * Times Buy is pressed again by itself for a fan the graph asked to wait (an on-sale's crowd: the
 * answer is RATE_LIMITED with how many seconds), before the fan is told to try later.
 */
const BUSY_RETRIES = 5;

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
  /** Seconds until Buy is pressed again, while the graph has asked the fan to wait. */
  const [retryIn, setRetryIn] = useState<number>();
  const retries = useRef(0);
  const countdown = useRef<ReturnType<typeof setTimeout>>(undefined);
  const stopRetrying = () => {
    clearTimeout(countdown.current);
    retries.current = 0;
    setRetryIn(undefined);
  };
  useEffect(() => () => clearTimeout(countdown.current), []);
  // Taken meanwhile (the live status says so): nothing to press again for.
  const status = data?.ticket?.status;
  useEffect(() => {
    if (status !== "AVAILABLE") stopRetrying();
  }, [status]);

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
    setRetryIn(undefined);
    try {
      const result = await createOrder({ variables: { ticketId: ticket.id } });
      retries.current = 0;
      if (result.data) void navigate(`/orders/${result.data.createOrder.id}`);
    } catch (caught) {
      const { code, retryAfter } = refusal(caught);
      if (code !== "RATE_LIMITED" || retries.current >= BUSY_RETRIES) {
        retries.current = 0;
        setBuyError(caught);
        return;
      }
      retries.current++;
      // Counted down a second at a time, then Buy is pressed again.
      const tick = (left: number) => {
        setRetryIn(left);
        countdown.current = setTimeout(() => (left > 1 ? tick(left - 1) : void buy()), 1_000);
      };
      tick(Math.ceil(retryAfter ?? 1));
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
          disabled={buying || retryIn !== undefined || ticket.status !== "AVAILABLE"}
        >
          {buying ? "Reserving…" : retryIn !== undefined ? `Trying again in ${retryIn} s…` : "Buy"}
        </button>
      )}
      {retryIn !== undefined && (
        <p className="notice" role="status">
          Many fans are buying right now. We'll press Buy for you again in {retryIn} s.{" "}
          <button type="button" onClick={stopRetrying}>
            Stop trying
          </button>
        </p>
      )}
      <ErrorMessage error={buyError} action="createOrder" />
    </section>
  );
}
