import type { ReactNode } from "react";
import { Link, useLocation } from "react-router";
import { useViewer, type Viewer } from "../lib/session.js";
import { Loading } from "./Feedback.js";

/** Renders its page for a signed-in fan, or asks them to sign in and come back. */
export function RequireViewer({ children, what }: { children: (viewer: Viewer) => ReactNode; what: string }) {
  const { viewer, loading } = useViewer();
  const location = useLocation();
  if (loading) return <Loading />;
  if (!viewer) {
    const next = encodeURIComponent(location.pathname + location.search);
    return (
      <section className="page narrow">
        <h1>Please sign in</h1>
        <p>
          <Link to={`/signin?next=${next}`}>Sign in</Link> or{" "}
          <Link to={`/signup?next=${next}`}>create an account</Link> {what}.
        </p>
      </section>
    );
  }
  return <>{children(viewer)}</>;
}
