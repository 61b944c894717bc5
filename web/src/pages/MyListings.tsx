import { useId, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@apollo/client/react";
import { Link } from "react-router";
import {
  MyListingsDocument,
  UpdateTicketDocument,
  WithdrawTicketDocument,
  type MyListingsQuery,
} from "../gql/graphql.js";
import { Empty, ErrorMessage, Loading } from "../components/Feedback.js";
import { MoneyText } from "../components/MoneyText.js";
import { ConfirmButton } from "../components/Confirm.js";
import { RequireViewer } from "../components/RequireViewer.js";
import { describeError } from "../lib/errors.js";
import { toMajorText, toMinorUnits } from "../lib/money.js";
import { fieldText } from "../lib/forms.js";

type Listing = MyListingsQuery["myListings"][number];

const STATUS: Record<Listing["status"], string> = {
  AVAILABLE: "On sale",
  RESERVED: "Reserved by a buyer",
  SOLD: "Sold",
  WITHDRAWN: "Withdrawn",
};

export function MyListingsPage() {
  return <RequireViewer what="to see your listings">{() => <Listings />}</RequireViewer>;
}

function Listings() {
  const { data, loading, error } = useQuery(MyListingsDocument, { fetchPolicy: "cache-and-network" });
  if (loading && !data) return <Loading>Loading your listings…</Loading>;
  const listings = data?.myListings ?? [];
  return (
    <section className="page">
      <h1>My listings</h1>
      <ErrorMessage error={error} />
      {data && listings.length === 0 && (
        <Empty>
          You have no listings yet. <Link to="/sell">Sell a ticket</Link>
        </Empty>
      )}
      <ul className="tickets">
        {listings.map((listing) => (
          <ListingRow key={listing.id} listing={listing} />
        ))}
      </ul>
    </section>
  );
}

export function ListingRow({ listing }: { listing: Listing }) {
  const [editing, setEditing] = useState(false);
  const [problem, setProblem] = useState<string>();
  const [updateTicket, { loading: saving }] = useMutation(UpdateTicketDocument);
  const [withdrawTicket, { loading: withdrawing }] = useMutation(WithdrawTicketDocument);
  const priceId = useId();
  const changeable = listing.status === "AVAILABLE";

  const save = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const amount = toMinorUnits(
      fieldText(new FormData(event.currentTarget), "price"),
      listing.price.currency,
    );
    if (amount === null) {
      setProblem("Please enter a price like 45 or 45.50.");
      return;
    }
    setProblem(undefined);
    try {
      await updateTicket({
        variables: {
          id: listing.id,
          input: { price: { amount, currency: listing.price.currency }, expectedVersion: listing.version },
        },
      });
      setEditing(false);
    } catch (caught) {
      setProblem(describeError(caught, "updateTicket"));
    }
  };

  const withdraw = async () => {
    setProblem(undefined);
    try {
      await withdrawTicket({ variables: { id: listing.id } });
    } catch (caught) {
      setProblem(describeError(caught, "withdrawTicket"));
    }
  };

  return (
    <li className={`ticket ${listing.status.toLowerCase()}`}>
      <div>
        <strong>{listing.title}</strong>
        <div className="seller">
          <Link to={`/events/${listing.event.id}`}>{listing.event.name}</Link> · {STATUS[listing.status]}
        </div>
      </div>
      {editing ? (
        <form className="inline" onSubmit={(event) => void save(event)}>
          <label htmlFor={priceId}>New price ({listing.price.currency})</label>
          <input
            id={priceId}
            name="price"
            inputMode="decimal"
            required
            defaultValue={toMajorText(listing.price)}
            autoFocus
          />
          <button type="submit" className="primary" disabled={saving}>
            Save
          </button>
          <button type="button" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <MoneyText money={listing.price} />
      )}
      {changeable && !editing && (
        <div className="actions">
          <button type="button" onClick={() => setEditing(true)}>
            Edit price<span className="visually-hidden"> of {listing.title}</span>
          </button>
          <ConfirmButton
            question={`Withdraw "${listing.title}"? It comes off sale at once.`}
            yes="Yes, withdraw"
            no="Keep it on sale"
            onConfirm={() => void withdraw()}
            disabled={withdrawing}
          >
            Withdraw<span className="visually-hidden"> {listing.title}</span>
          </ConfirmButton>
        </div>
      )}
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
    </li>
  );
}
