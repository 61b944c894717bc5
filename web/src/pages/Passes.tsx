// My tickets: the passes the fan holds (each with its rotating QR code, printable one a page),
// the ones they passed on, transfers offered to them, and sending a pass to someone by email.
import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@apollo/client/react";
import { Link } from "react-router";
import {
  AcceptPassTransferDocument,
  CancelPassTransferDocument,
  MyPassesDocument,
  ListPassDocument,
  OfferPassTransferDocument,
  type MyPassesQuery,
  type PassFieldsFragment,
} from "../gql/graphql.js";
import { Empty, ErrorMessage, Loading } from "../components/Feedback.js";
import { DateText } from "../components/MoneyText.js";
import { PassCard } from "../components/PassCard.js";
import { RequireViewer } from "../components/RequireViewer.js";
import { describeError } from "../lib/errors.js";
import { fieldText } from "../lib/forms.js";
import { CURRENCIES, formatMoney, PRICE_MAX, toMinorUnits } from "../lib/money.js";

/** How often the page asks for new transfers and changes made elsewhere (a code asks on its own). */
const REFRESH_MS = 15_000;

export function MyPassesPage() {
  return <RequireViewer what="to see your tickets">{() => <MyPasses />}</RequireViewer>;
}

function MyPasses() {
  const { data, loading, error } = useQuery(MyPassesDocument, { pollInterval: REFRESH_MS });
  if (loading && !data) return <Loading>Loading your tickets…</Loading>;
  if (!data) return <ErrorMessage error={error} />;
  const held = data.myPasses.filter((pass) => pass.status === "VALID" || pass.status === "CHECKED_IN");
  const former = data.myPasses.filter((pass) => !held.includes(pass));
  return (
    <section className="page narrow passes-page">
      <h1>My tickets</h1>
      {held.some((pass) => pass.status === "VALID") && (
        <div className="actions no-print">
          <button type="button" onClick={() => window.print()}>
            Print my tickets
          </button>
        </div>
      )}
      <Incoming passes={data.incomingPassTransfers} />
      {held.length === 0 ? (
        <Empty>
          You have no tickets yet. A ticket you buy appears here once it is paid.{" "}
          <Link to="/">Find an event</Link>
        </Empty>
      ) : (
        held.map((pass) => (
          <PassCard key={pass.id} pass={pass}>
            {pass.status === "VALID" && <Transfer pass={pass} />}
            {pass.status === "VALID" && !pass.pendingTransfer && <Resell pass={pass} />}
          </PassCard>
        ))
      )}
      {former.length > 0 && (
        <section className="no-print" aria-labelledby="former-passes">
          <h2 id="former-passes">Passed on</h2>
          {former.map((pass) => (
            <PassCard key={pass.id} pass={pass} level={3} />
          ))}
        </section>
      )}
    </section>
  );
}

function Incoming({ passes }: { passes: MyPassesQuery["incomingPassTransfers"] }) {
  const [accept, { loading }] = useMutation(AcceptPassTransferDocument, {
    refetchQueries: [MyPassesDocument],
    awaitRefetchQueries: true,
  });
  const [failure, setFailure] = useState<unknown>();
  if (passes.length === 0) return null;
  const onAccept = async (passId: string) => {
    setFailure(undefined);
    try {
      await accept({ variables: { passId } });
    } catch (error) {
      setFailure(error);
    }
  };
  return (
    <section className="incoming no-print" aria-labelledby="incoming-transfers">
      <h2 id="incoming-transfers">Sent to you</h2>
      <ul className="plain">
        {passes.map((pass) => (
          <li key={pass.id} className="incoming-transfer">
            <p>
              <strong>{pass.holder.displayName}</strong> is sending you {pass.title}
              {pass.section && `, section ${pass.section}`} for {pass.event.name} (
              <DateText iso={pass.event.startsAt} />, {pass.event.venue}).
            </p>
            <button
              type="button"
              className="primary"
              disabled={loading}
              onClick={() => void onAccept(pass.id)}
            >
              Accept {pass.title}
            </button>
          </li>
        ))}
      </ul>
      {failure !== undefined && (
        <p className="error" role="alert">
          {describeError(failure, "acceptTransfer")}
        </p>
      )}
    </section>
  );
}

function Transfer({ pass }: { pass: PassFieldsFragment }) {
  const [offer, offering] = useMutation(OfferPassTransferDocument);
  const [cancel, cancelling] = useMutation(CancelPassTransferDocument);
  const [failure, setFailure] = useState<{ error: unknown; action: "transferPass" }>();
  const emailId = `transfer-email-${pass.id}`;
  const errorId = `transfer-error-${pass.id}`;

  const onOffer = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setFailure(undefined);
    const email = fieldText(new FormData(event.currentTarget), "email").trim();
    try {
      await offer({ variables: { passId: pass.id, email } });
    } catch (error) {
      setFailure({ error, action: "transferPass" });
    }
  };
  const onCancel = async () => {
    setFailure(undefined);
    try {
      await cancel({ variables: { passId: pass.id } });
    } catch (error) {
      setFailure({ error, action: "transferPass" });
    }
  };

  const failed = failure && (
    <p className="error" role="alert" id={errorId}>
      {describeError(failure.error, failure.action)}
    </p>
  );
  if (pass.pendingTransfer) {
    return (
      <div className="transfer no-print">
        <p role="status">
          Sent to {pass.pendingTransfer.toEmail} on <DateText iso={pass.pendingTransfer.offeredAt} />: it is
          yours until they accept.
        </p>
        <button type="button" disabled={cancelling.loading} onClick={() => void onCancel()}>
          Cancel the transfer
        </button>
        {failed}
      </div>
    );
  }
  return (
    <form className="transfer no-print" onSubmit={(event) => void onOffer(event)} noValidate>
      <label htmlFor={emailId}>Send this ticket to (their account's email)</label>
      <input
        id={emailId}
        name="email"
        type="email"
        autoComplete="off"
        required
        aria-invalid={failure ? true : undefined}
        aria-describedby={failure ? errorId : undefined}
      />
      <button type="submit" disabled={offering.loading}>
        Transfer
      </button>
      {failed}
    </form>
  );
}

/** Resale through the marketplace: a verified listing of the pass, at most the event's cap. */
function Resell({ pass }: { pass: PassFieldsFragment }) {
  const [listPass, { loading, data }] = useMutation(ListPassDocument);
  const [problem, setProblem] = useState<string>();
  const cap = pass.event.resalePriceCap;
  const [currency, setCurrency] = useState(cap?.currency ?? pass.event.currency ?? "EUR");
  const ids = { price: `resell-price-${pass.id}`, currency: `resell-currency-${pass.id}` };
  const problemId = `resell-problem-${pass.id}`;
  const capId = `resell-cap-${pass.id}`;

  const onList = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const text = fieldText(new FormData(event.currentTarget), "price");
    const amount = toMinorUnits(text, currency);
    if (amount === null || amount > PRICE_MAX) {
      setProblem(`Please enter a price up to ${formatMoney({ amount: PRICE_MAX, currency })}, like 45.00.`);
      return;
    }
    setProblem(undefined);
    try {
      await listPass({ variables: { input: { passId: pass.id, price: { amount, currency } } } });
    } catch (error) {
      setProblem(describeError(error, "resellPass"));
    }
  };

  const listing = data?.listPass;
  if (listing) {
    return (
      <p className="success no-print" role="status">
        Listed for resale at {formatMoney(listing.price)}.{" "}
        <Link to={`/tickets/${listing.id}`}>See your listing</Link>
      </p>
    );
  }
  return (
    <form className="transfer no-print" onSubmit={(event) => void onList(event)} noValidate>
      <label htmlFor={ids.price}>Resell this ticket for</label>
      <input
        id={ids.price}
        name="price"
        inputMode="decimal"
        autoComplete="off"
        required
        aria-invalid={problem ? true : undefined}
        aria-describedby={[cap ? capId : "", problem ? problemId : ""].join(" ").trim() || undefined}
      />
      <label htmlFor={ids.currency} className="visually-hidden">
        Currency
      </label>
      <select id={ids.currency} value={currency} onChange={(event) => setCurrency(event.target.value)}>
        {CURRENCIES.map((code) => (
          <option key={code}>{code}</option>
        ))}
      </select>
      <button type="submit" disabled={loading}>
        List for resale
      </button>
      {cap && (
        <small id={capId} className="hint">
          At most {formatMoney(cap)}: the event's resale price cap.
        </small>
      )}
      {problem && (
        <p className="error" role="alert" id={problemId}>
          {problem}
        </p>
      )}
    </form>
  );
}
