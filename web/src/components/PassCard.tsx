// A pass as its holder sees it: the event, the seat, the status and, while it is valid, its QR
// code, asked for again at every step of its rotation (the old code stays on screen until the new
// one arrives: no flicker).
import { lazy, Suspense, useEffect, type ReactNode } from "react";
import { useQuery } from "@apollo/client/react";
import { Link } from "react-router";
import {
  PassCodeDocument,
  PassStepDocument,
  type PassFieldsFragment,
  type PassHoldingEnd,
  type PassStatus,
} from "../gql/graphql.js";
import { DateText } from "./MoneyText.js";
import { ErrorMessage, Loading } from "./Feedback.js";

const QrCode = lazy(() => import("./QrCode.js").then((m) => ({ default: m.QrCode })));

export const PASS_STATUS: Record<PassStatus, string> = {
  VALID: "Valid",
  CHECKED_IN: "Checked in",
  TRANSFERRED: "Transferred",
  RESOLD: "Resold",
  VOID: "Void",
};

const ENDED_BY: Record<PassHoldingEnd, string> = { TRANSFERRED: "transferred", RESOLD: "resold" };

/** Until the step is known (the event's pass key), a code is asked for again this often. */
const DEFAULT_STEP_SECONDS = 30;
/** After a step starts, how long to wait before asking, so a clock a little behind the graph's gets the new code. */
const STEP_MARGIN_MS = 1_000;

/** Milliseconds from `now` until just after the next step of `stepSeconds` starts. */
export function untilNextStep(now: number, stepSeconds: number): number {
  const stepMs = stepSeconds * 1000;
  return stepMs - (now % stepMs) + STEP_MARGIN_MS;
}

function usePassCode(pass: PassFieldsFragment, active: boolean) {
  const step = useQuery(PassStepDocument, { variables: { eventId: pass.event.id }, skip: !active });
  const code = useQuery(PassCodeDocument, {
    variables: { id: pass.id },
    skip: !active,
    fetchPolicy: "network-only",
    nextFetchPolicy: "cache-first",
  });
  const stepSeconds = step.data?.eventPassKey.stepSeconds ?? DEFAULT_STEP_SECONDS;
  const { refetch } = code;
  useEffect(() => {
    if (!active) return;
    let timer: ReturnType<typeof setTimeout>;
    const schedule = () => {
      timer = setTimeout(
        () => {
          // A failed refresh keeps the code shown; the next step asks again.
          refetch().catch(() => undefined);
          schedule();
        },
        untilNextStep(Date.now(), stepSeconds),
      );
    };
    schedule();
    return () => clearTimeout(timer);
  }, [active, stepSeconds, refetch]);
  return code;
}

function PassCode({ pass }: { pass: PassFieldsFragment }) {
  const { data, loading, error } = usePassCode(pass, true);
  const current = data?.pass;
  if (loading && !data) return <Loading>Loading the code…</Loading>;
  if (!current) return <ErrorMessage error={error} />;
  if (!current.code) {
    return current.status === "VALID" ? (
      <p className="notice">
        No code while this pass is listed for resale: withdraw the listing in{" "}
        <Link to="/listings">My listings</Link> to use it again.
      </p>
    ) : null;
  }
  const label = `QR code of your pass for ${pass.event.name}, ${pass.title}`;
  return (
    <div className="pass-qr">
      <Suspense fallback={<Loading>Drawing the code…</Loading>}>
        <QrCode value={current.code} label={label} />
      </Suspense>
      <p className="hint">
        The code keeps changing, so a screenshot soon stops working: show this screen at the door.
      </p>
      <details className="no-print">
        <summary>Show the code as text</summary>
        <code className="pass-code">{current.code}</code>
      </details>
    </div>
  );
}

export function PassCard({
  pass,
  level = 2,
  children,
}: {
  pass: PassFieldsFragment;
  /** The level of the pass's heading on its page. */
  level?: 2 | 3;
  children?: ReactNode;
}) {
  const headingId = `pass-${pass.id}`;
  const Heading = level === 2 ? "h2" : "h3";
  return (
    <article className={`pass pass-${pass.status.toLowerCase()}`} aria-labelledby={headingId}>
      <Heading id={headingId}>{pass.event.name}</Heading>
      <dl className="facts">
        <dt>When</dt>
        <dd>
          <DateText iso={pass.event.startsAt} />
        </dd>
        <dt>Where</dt>
        <dd>
          {pass.event.venue}, {pass.event.city}
        </dd>
        <dt>Ticket</dt>
        <dd>
          {pass.title}
          {pass.section && `, section ${pass.section}`}
        </dd>
        <dt>Status</dt>
        <dd className="pass-status">
          {PASS_STATUS[pass.status]}
          {pass.status === "CHECKED_IN" && pass.checkedInAt && (
            <>
              {" "}
              on <DateText iso={pass.checkedInAt} />
            </>
          )}
        </dd>
      </dl>
      {pass.status === "VALID" && <PassCode pass={pass} />}
      {children}
      {pass.history.length > 1 && (
        <details className="pass-history no-print">
          <summary>History</summary>
          <ol>
            {pass.history.map((holding) => (
              <li key={holding.issue}>
                {holding.holder.displayName} from <DateText iso={holding.from} />
                {holding.to && (
                  <>
                    {" "}
                    to <DateText iso={holding.to} />
                  </>
                )}
                {holding.endedBy && ` (${ENDED_BY[holding.endedBy]})`}
              </li>
            ))}
          </ol>
        </details>
      )}
    </article>
  );
}
