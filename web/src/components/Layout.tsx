import { Suspense, useEffect, useRef } from "react";
import { useApolloClient, useMutation } from "@apollo/client/react";
import { Link, NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { SignOutDocument } from "../gql/graphql.js";
import { useViewer } from "../lib/session.js";
import { Loading } from "./Loading.js";
import { usePageHeading } from "./PageHeading.js";
import { PageErrorBoundary } from "../pages/RouteError.js";

export function Layout() {
  const { viewer, isOps, canScan } = useViewer();
  const client = useApolloClient();
  const navigate = useNavigate();
  const location = useLocation();
  const [signOut, { loading: signingOut }] = useMutation(SignOutDocument);

  const main = useRef<HTMLElement>(null);
  usePageHeading(main);
  // Set on sign-out: once the page that was open is gone, the cache is dropped and what is left
  // on screen (who is signed in, the events) asked again, as anyone. Asking again while a page
  // about the fan (their orders, listings) is still open would only be refused.
  const resetPending = useRef(false);
  useEffect(() => {
    if (!resetPending.current) return;
    resetPending.current = false;
    // Apollo lets go of an unmounted page's queries a task later (a timer set as it unmounted):
    // a timer set now runs after it. A query that fails then shows its error on its own page.
    setTimeout(() => void client.resetStore().catch(() => undefined));
  }, [location.key, client]);

  const onSignOut = async () => {
    try {
      await signOut();
    } catch {
      // The session ends here either way; the page asks who is signed in again below.
    }
    resetPending.current = true;
    void navigate("/");
  };

  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <Link to="/" className="brand">
          Ticketing
        </Link>
        <nav aria-label="Main">
          <NavLink to="/" end>
            Events
          </NavLink>
          <NavLink to="/sell">Sell</NavLink>
          {viewer && <NavLink to="/listings">My listings</NavLink>}
          {viewer && <NavLink to="/orders">My orders</NavLink>}
          {viewer && <NavLink to="/passes">My tickets</NavLink>}
          {canScan && <NavLink to="/scan">Scan</NavLink>}
          {isOps && <NavLink to="/ops">Ops</NavLink>}
        </nav>
        <div className="account">
          {viewer ? (
            <>
              <span className="who">{viewer.displayName}</span>
              <button type="button" onClick={() => void onSignOut()} disabled={signingOut}>
                Sign out
              </button>
            </>
          ) : (
            <>
              <NavLink to="/signin">Sign in</NavLink>
              <NavLink to="/signup" className="button">
                Sign up
              </NavLink>
            </>
          )}
        </div>
      </header>
      <main id="main" ref={main}>
        <PageErrorBoundary resetKey={location.pathname}>
          <Suspense fallback={<Loading />}>
            <Outlet />
          </Suspense>
        </PageErrorBoundary>
      </main>
    </div>
  );
}
