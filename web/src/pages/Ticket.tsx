import { useState } from "react";
import { useMutation, useQuery } from "@apollo/client/react";
import { Link, useLocation, useNavigate, useParams } from "react-router";
import { CreateOrderDocument, TicketDocument } from "../gql/graphql.js";
import { DateText, MoneyText } from "../components/MoneyText.js";
import { ErrorMessage, Loading } from "../components/Feedback.js";
import { useViewer } from "../lib/session.js";

const STATUS: Record<string, string> = {
  AVAILABLE: "Available",
  RESERVED: "Reserved by another fan",
  SOLD: "Sold",
  WITHDRAWN: "No longer offered",
};

export function TicketPage() {
  const { id = "" } = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  const { viewer } = useViewer();
  const { data, loading, error } = useQuery(TicketDocument, { variables: { id } });
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
        <dd>{STATUS[ticket.status] ?? ticket.status}</dd>
      </dl>
      {own ? (
        <p>
          This is your listing. <Link to="/listings">Manage your listings</Link>
        </p>
      ) : !viewer ? (
        <p>
          <Link className="button primary" to={`/signin?next=${encodeURIComponent(location.pathname)}`}>
            Sign in to buy
          </Link>
        </p>
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
