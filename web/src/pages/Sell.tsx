import { useId, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@apollo/client/react";
import { useNavigate, useSearchParams } from "react-router";
import { EventsDocument, ListTicketDocument, MyListingsDocument } from "../gql/graphql.js";
import { ErrorMessage, Loading } from "../components/Feedback.js";
import { RequireViewer } from "../components/RequireViewer.js";
import { describeError, errorField } from "../lib/errors.js";
import { CURRENCIES, toMinorUnits } from "../lib/money.js";
import { fieldText } from "../lib/forms.js";

export function SellPage() {
  return <RequireViewer what="to sell a ticket">{() => <SellForm />}</RequireViewer>;
}

function SellForm() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const events = useQuery(EventsDocument, {
    variables: {
      first: 100,
      filter: { startsAfter: new Date().toISOString().slice(0, 10) + "T00:00:00.000Z" },
    },
  });
  const [listTicket, { loading }] = useMutation(ListTicketDocument, { refetchQueries: [MyListingsDocument] });
  const [error, setError] = useState<unknown>();
  const [priceProblem, setPriceProblem] = useState<string>();
  const ids = { event: useId(), title: useId(), section: useId(), price: useId(), currency: useId() };
  const field = errorField(error);

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const currency = fieldText(form, "currency");
    const amount = toMinorUnits(fieldText(form, "price"), currency);
    setError(undefined);
    if (amount === null) {
      setPriceProblem("Please enter a price like 45 or 45.50.");
      return;
    }
    setPriceProblem(undefined);
    const section = fieldText(form, "section").trim();
    try {
      const result = await listTicket({
        variables: {
          input: {
            eventId: fieldText(form, "eventId"),
            title: fieldText(form, "title").trim(),
            ...(section ? { section } : {}),
            price: { amount, currency },
          },
        },
      });
      if (result.data) void navigate(`/events/${result.data.listTicket.event.id}`);
    } catch (caught) {
      setError(caught);
    }
  };

  if (events.loading && !events.data) return <Loading>Loading events…</Loading>;
  const options = events.data?.events.edges.map(({ node }) => node) ?? [];

  return (
    <section className="page narrow">
      <h1>Sell a ticket</h1>
      <ErrorMessage error={events.error} />
      <form onSubmit={(event) => void onSubmit(event)}>
        <div className="field">
          <label htmlFor={ids.event}>Event</label>
          <select
            id={ids.event}
            name="eventId"
            required
            defaultValue={params.get("event") ?? ""}
            aria-invalid={field === "eventId" || undefined}
          >
            <option value="" disabled>
              Choose an event
            </option>
            {options.map((option) => (
              <option key={option.id} value={option.id}>
                {option.name} ({option.city}, {new Date(option.startsAt).toLocaleDateString()})
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.title}>Title</label>
          <input
            id={ids.title}
            name="title"
            required
            maxLength={120}
            placeholder="e.g. Standing, front left"
            aria-invalid={field === "title" || undefined}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.section}>Section (optional)</label>
          <input
            id={ids.section}
            name="section"
            maxLength={40}
            aria-invalid={field === "section" || undefined}
          />
        </div>
        <div className="row">
          <div className="field">
            <label htmlFor={ids.price}>Price</label>
            <input
              id={ids.price}
              name="price"
              inputMode="decimal"
              required
              placeholder="45.00"
              aria-invalid={!!priceProblem || field === "price" || field === "amount" || undefined}
              aria-describedby={priceProblem ? `${ids.price}-problem` : undefined}
            />
          </div>
          <div className="field">
            <label htmlFor={ids.currency}>Currency</label>
            <select id={ids.currency} name="currency" defaultValue="USD">
              {CURRENCIES.map((currency) => (
                <option key={currency}>{currency}</option>
              ))}
            </select>
          </div>
        </div>
        {priceProblem && (
          <p className="error" role="alert" id={`${ids.price}-problem`}>
            {priceProblem}
          </p>
        )}
        {error !== undefined && (
          <p className="error" role="alert">
            {describeError(error, "listTicket")}
          </p>
        )}
        <button type="submit" className="primary" disabled={loading}>
          {loading ? "Listing…" : "List ticket"}
        </button>
      </form>
    </section>
  );
}
