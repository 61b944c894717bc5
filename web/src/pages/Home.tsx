import { useId, useState, type FormEvent } from "react";
import { useQuery } from "@apollo/client/react";
import { Link, useSearchParams } from "react-router";
import { CatalogDocument, type EventFilter, type EventOrder } from "../gql/graphql.js";
import { DateText, MoneyText } from "../components/MoneyText.js";
import { Empty, ErrorMessage, Loading } from "../components/Feedback.js";
import { fieldText } from "../lib/forms.js";

/** Events per page: four rows of a wide grid, and each "More events" as many again. */
const PAGE = 24;
/** The currencies the catalog can be sorted by price in (amounts of two are never compared). */
const PRICE_SORTS = ["EUR", "GBP", "USD"] as const;

export function filterFrom(params: URLSearchParams): EventFilter {
  const filter: EventFilter = { startsAfter: startOfToday() };
  for (const key of ["search", "city", "category"] as const) {
    const value = params.get(key)?.trim();
    if (value) filter[key] = value;
  }
  if (params.get("available") === "1") filter.withTickets = true;
  return filter;
}

/** `sort=price-EUR` → cheapest first in euros; anything else: soonest first. */
export function orderFrom(params: URLSearchParams): EventOrder | undefined {
  const currency = /^price-([A-Z]{3})$/.exec(params.get("sort") ?? "")?.[1];
  return currency ? { by: "LOWEST_PRICE", currency } : undefined;
}

const symbol = (currency: string) =>
  new Intl.NumberFormat(undefined, { style: "currency", currency, currencyDisplay: "narrowSymbol" })
    .formatToParts(0)
    .find((part) => part.type === "currency")?.value ?? currency;

function startOfToday(): string {
  const now = new Date();
  return new Date(now.getFullYear(), now.getMonth(), now.getDate()).toISOString();
}

export function HomePage() {
  const [params, setParams] = useSearchParams();
  const [startsAfter] = useState(startOfToday);
  const filter = { ...filterFrom(params), startsAfter };
  const orderBy = orderFrom(params);
  const { data, loading, error, fetchMore } = useQuery(CatalogDocument, {
    variables: { first: PAGE, filter, ...(orderBy ? { orderBy } : {}) },
  });
  const [loadingMore, setLoadingMore] = useState(false);
  const ids = { search: useId(), city: useId(), category: useId(), sort: useId(), available: useId() };

  const onSubmit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const next = new URLSearchParams();
    for (const key of ["search", "city", "category", "sort", "available"]) {
      const value = fieldText(form, key).trim();
      if (value && !(key === "sort" && value === "date")) next.set(key, value);
    }
    setParams(next);
  };

  const events = data?.events.edges ?? [];
  const pageInfo = data?.events.pageInfo;

  const more = async () => {
    if (!pageInfo?.endCursor) return;
    setLoadingMore(true);
    try {
      await fetchMore({
        variables: { after: pageInfo.endCursor },
        updateQuery: (previous, { fetchMoreResult }) => ({
          ...fetchMoreResult,
          events: {
            ...fetchMoreResult.events,
            edges: [...(previous.events?.edges ?? []), ...fetchMoreResult.events.edges],
          },
        }),
      });
    } finally {
      setLoadingMore(false);
    }
  };

  return (
    <section className="page">
      <h1>Upcoming events</h1>
      <form className="filters" role="search" onSubmit={onSubmit} key={params.toString()}>
        <div className="field">
          <label htmlFor={ids.search}>Search</label>
          <input
            id={ids.search}
            name="search"
            type="search"
            defaultValue={params.get("search") ?? ""}
            placeholder="Artist, venue or city"
          />
        </div>
        <div className="field">
          <label htmlFor={ids.city}>City</label>
          <input id={ids.city} name="city" defaultValue={params.get("city") ?? ""} />
        </div>
        <div className="field">
          <label htmlFor={ids.category}>Category</label>
          <input
            id={ids.category}
            name="category"
            defaultValue={params.get("category") ?? ""}
            placeholder="Concert, sport…"
          />
        </div>
        <div className="field">
          <label htmlFor={ids.sort}>Sort by</label>
          <select id={ids.sort} name="sort" defaultValue={params.get("sort") ?? "date"}>
            <option value="date">Date, soonest first</option>
            {PRICE_SORTS.map((currency) => (
              <option key={currency} value={`price-${currency}`}>
                Lowest price in {currency} ({symbol(currency)})
              </option>
            ))}
          </select>
        </div>
        <div className="field checkbox">
          <input
            id={ids.available}
            name="available"
            type="checkbox"
            value="1"
            defaultChecked={params.get("available") === "1"}
          />
          <label htmlFor={ids.available}>Only events with tickets</label>
        </div>
        <button type="submit">Find events</button>
      </form>
      {loading && !data && <Loading>Loading events…</Loading>}
      <ErrorMessage error={error} />
      {data && events.length === 0 && (
        <Empty>{params.size > 0 ? "No events match your search." : "No upcoming events yet."}</Empty>
      )}
      <ul className="cards">
        {events.map(({ node }) => (
          <li key={node.id} className="card">
            <h2>
              <Link to={`/events/${node.id}`}>{node.name}</Link>
            </h2>
            <p className="meta">
              <DateText iso={node.startsAt} /> · {node.venue}, {node.city}
              {node.category && <span className="tag">{node.category}</span>}
            </p>
            <p>
              {node.availableTickets > 0 && node.lowestPrices.length > 0 ? (
                <>
                  {node.availableTickets} {node.availableTickets === 1 ? "ticket" : "tickets"} from{" "}
                  {node.lowestPrices.map((price, index) => (
                    <span key={price.currency}>
                      {index > 0 && " or "}
                      <MoneyText money={price} />
                    </span>
                  ))}
                </>
              ) : (
                "No tickets available right now"
              )}
            </p>
          </li>
        ))}
      </ul>
      {pageInfo?.hasNextPage && (
        <button type="button" onClick={() => void more()} disabled={loadingMore}>
          {loadingMore ? "Loading…" : "More events"}
        </button>
      )}
    </section>
  );
}
