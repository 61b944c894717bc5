import { useId, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@apollo/client/react";
import { Link, useSearchParams } from "react-router";
import {
  ListTicketDocument,
  MyListingsDocument,
  SellableEventsDocument,
  type SellableEventsQuery,
} from "../gql/graphql.js";
import { ErrorMessage, Loading } from "../components/Feedback.js";
import { EventPicker } from "../components/EventPicker.js";
import { RequireViewer } from "../components/RequireViewer.js";
import { describeError, errorField } from "../lib/errors.js";
import { CURRENCIES, formatMoney, PRICE_MAX, toMinorUnits } from "../lib/money.js";
import { fieldText } from "../lib/forms.js";

type SellableEvent = SellableEventsQuery["events"]["edges"][number]["node"];

export function SellPage() {
  return <RequireViewer what="to sell a ticket">{() => <SellForm />}</RequireViewer>;
}

/** What a price field holds, or what is wrong with it, in the chosen currency. */
export function priceProblem(text: string, currency: string): string | null {
  const amount = toMinorUnits(text, currency);
  if (amount === null) return "Please enter a price like 45 or 45.50.";
  if (amount > PRICE_MAX)
    return `The highest price is ${formatMoney({ amount: PRICE_MAX, currency }, "en")}.`;
  return null;
}

function SellForm() {
  const [params] = useSearchParams();
  const [startOfToday] = useState(() => new Date().toISOString().slice(0, 10) + "T00:00:00.000Z");
  const events = useQuery(SellableEventsDocument, {
    variables: { first: 100, filter: { startsAfter: startOfToday } },
  });
  if (events.loading && !events.data) return <Loading>Loading events…</Loading>;
  const options = events.data?.events.edges.map(({ node }) => node) ?? [];
  return (
    <section className="page narrow">
      <h1>Sell a ticket</h1>
      <ErrorMessage error={events.error} />
      <Form
        options={options}
        initial={options.find((option) => option.id === params.get("event"))}
        startsAfter={startOfToday}
      />
    </section>
  );
}

interface Listed {
  id: string;
  title: string;
  event: SellableEvent;
}

/** The longest word typed: what the catalog is searched for (the picker then matches every word). */
export function searchWord(typed: string): string | undefined {
  const longest = typed.split(/\s+/).reduce((best, word) => (word.length > best.length ? word : best), "");
  return longest.length >= 2 ? longest : undefined;
}

function Form({
  options,
  initial,
  startsAfter,
}: {
  options: SellableEvent[];
  initial: SellableEvent | undefined;
  startsAfter: string;
}) {
  // The soonest events come with the page; typing searches the whole catalog as well.
  const [typed, setTyped] = useState("");
  const word = searchWord(typed);
  const found = useQuery(SellableEventsDocument, {
    variables: { first: 50, filter: { startsAfter, search: word } },
    skip: !word,
  });
  const searched = (found.data ?? found.previousData)?.events.edges.map(({ node }) => node) ?? [];
  const known = new Set(options.map((option) => option.id));
  const pickable = [...options, ...searched.filter((option) => !known.has(option.id))].sort((a, b) =>
    a.startsAt < b.startsAt ? -1 : a.startsAt > b.startsAt ? 1 : 0,
  );
  const [listTicket, { loading }] = useMutation(ListTicketDocument, { refetchQueries: [MyListingsDocument] });
  const [event, setEvent] = useState<SellableEvent | undefined>(initial);
  // The event's currency until the seller picks one.
  const [chosenCurrency, setChosenCurrency] = useState<string>();
  const currency = chosenCurrency ?? event?.currency ?? "USD";
  const [error, setError] = useState<unknown>();
  const [problems, setProblems] = useState<{ eventId?: string; price?: string }>({});
  const [listed, setListed] = useState<Listed>();
  const [round, setRound] = useState(0);
  const ids = { event: useId(), title: useId(), section: useId(), price: useId(), currency: useId() };
  const field = errorField(error);
  const serverPriceError = field === "price" || field === "amount";

  /** A field changed: what was said about it no longer holds. */
  const changed = (name: string) => {
    if (name === field || (name === "price" && serverPriceError) || (error !== undefined && !field)) {
      setError(undefined);
    }
    if (name in problems) setProblems(({ [name as keyof typeof problems]: _, ...rest }) => rest);
  };

  const onSubmit = async (submitted: FormEvent<HTMLFormElement>) => {
    submitted.preventDefault();
    const form = new FormData(submitted.currentTarget);
    setError(undefined);
    const found = {
      eventId: event ? undefined : "Please choose an event from the list.",
      price: priceProblem(fieldText(form, "price"), currency) ?? undefined,
    };
    setProblems(found);
    const amount = toMinorUnits(fieldText(form, "price"), currency);
    if (!event || found.price || amount === null) return;
    const section = fieldText(form, "section").trim();
    try {
      const result = await listTicket({
        variables: {
          input: {
            eventId: event.id,
            title: fieldText(form, "title").trim(),
            ...(section ? { section } : {}),
            price: { amount, currency },
          },
        },
      });
      if (result.data) {
        setListed({ id: result.data.listTicket.id, title: result.data.listTicket.title, event });
        setRound((n) => n + 1);
      }
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <>
      {listed && (
        <div className="confirmation" role="status">
          <p className="success">
            “{listed.title}” is listed for {listed.event.name}.
          </p>
          <p>
            <Link to={`/tickets/${listed.id}`}>View your listing</Link> ·{" "}
            <Link to={`/events/${listed.event.id}`}>See it on the event page</Link> ·{" "}
            <Link to="/listings">All your listings</Link>
          </p>
        </div>
      )}
      <form
        key={round}
        onSubmit={(submitted) => void onSubmit(submitted)}
        onChange={(changedEvent) => {
          const target = changedEvent.target;
          if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement)
            changed(target.name || (target.id === ids.event ? "eventId" : ""));
        }}
      >
        <div className="field">
          <label htmlFor={ids.event}>Event</label>
          <EventPicker
            id={ids.event}
            events={pickable}
            onType={setTyped}
            selected={event}
            onSelect={(picked) => {
              setEvent(picked);
              changed("eventId");
            }}
            invalid={!!problems.eventId || field === "eventId"}
            describedBy={problems.eventId ? `${ids.event}-problem` : undefined}
          />
          {problems.eventId && (
            <p className="error" role="alert" id={`${ids.event}-problem`}>
              {problems.eventId}
            </p>
          )}
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
              aria-invalid={!!problems.price || serverPriceError || undefined}
              aria-describedby={problems.price ? `${ids.price}-problem` : undefined}
            />
          </div>
          <div className="field">
            <label htmlFor={ids.currency}>Currency</label>
            <select
              id={ids.currency}
              name="currency"
              value={currency}
              onChange={(changedEvent) => setChosenCurrency(changedEvent.target.value)}
            >
              {CURRENCIES.map((code) => (
                <option key={code}>{code}</option>
              ))}
            </select>
          </div>
        </div>
        {problems.price && (
          <p className="error" role="alert" id={`${ids.price}-problem`}>
            {problems.price}
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
    </>
  );
}
