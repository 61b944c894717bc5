import { Suspense } from "react";
import { useApolloClient, useMutation } from "@apollo/client/react";
import { Link, NavLink, Outlet, useLocation, useNavigate } from "react-router";
import { SignOutDocument } from "../gql/graphql.js";
import { useViewer } from "../lib/session.js";
import { Loading } from "./Loading.js";
import { PageErrorBoundary } from "../pages/RouteError.js";

export function Layout() {
  const { viewer, isOps } = useViewer();
  const client = useApolloClient();
  const navigate = useNavigate();
  const location = useLocation();
  const [signOut, { loading: signingOut }] = useMutation(SignOutDocument);

  const onSignOut = async () => {
    try {
      await signOut();
    } finally {
      await client.clearStore();
      await client.refetchQueries({ include: "active" });
      void navigate("/");
    }
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
      <main id="main">
        <PageErrorBoundary resetKey={location.pathname}>
          <Suspense fallback={<Loading />}>
            <Outlet />
          </Suspense>
        </PageErrorBoundary>
      </main>
    </div>
  );
}
