import { lazy } from "react";
import { Route, Routes } from "react-router";
import { Layout } from "./components/Layout.js";
import { NotFoundPage } from "./pages/RouteError.js";
import { HomePage } from "./pages/Home.js";

// Every page but the landing page is its own chunk: the first load carries the shell and the
// events, with no round trip for a chunk before the events' query is sent (bench/src/lcp.ts).
const SignInPage = lazy(() => import("./pages/Auth.js").then((m) => ({ default: m.SignInPage })));
const SignUpPage = lazy(() => import("./pages/Auth.js").then((m) => ({ default: m.SignUpPage })));
const ForgotPasswordPage = lazy(() =>
  import("./pages/PasswordReset.js").then((m) => ({ default: m.ForgotPasswordPage })),
);
const ResetPasswordPage = lazy(() =>
  import("./pages/PasswordReset.js").then((m) => ({ default: m.ResetPasswordPage })),
);
const EventPage = lazy(() => import("./pages/Event.js").then((m) => ({ default: m.EventPage })));
const TicketPage = lazy(() => import("./pages/Ticket.js").then((m) => ({ default: m.TicketPage })));
const SellPage = lazy(() => import("./pages/Sell.js").then((m) => ({ default: m.SellPage })));
const MyListingsPage = lazy(() =>
  import("./pages/MyListings.js").then((m) => ({ default: m.MyListingsPage })),
);
const MyOrdersPage = lazy(() => import("./pages/MyOrders.js").then((m) => ({ default: m.MyOrdersPage })));
const OrderPage = lazy(() => import("./pages/Order.js").then((m) => ({ default: m.OrderPage })));
const MyPassesPage = lazy(() => import("./pages/Passes.js").then((m) => ({ default: m.MyPassesPage })));
const ScanPage = lazy(() => import("./pages/Scan.js").then((m) => ({ default: m.ScanPage })));
const OpsPage = lazy(() => import("./pages/Ops.js").then((m) => ({ default: m.OpsPage })));

export function AppRoutes() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route index element={<HomePage />} />
        <Route path="signin" element={<SignInPage />} />
        <Route path="signup" element={<SignUpPage />} />
        <Route path="forgot-password" element={<ForgotPasswordPage />} />
        <Route path="reset-password" element={<ResetPasswordPage />} />
        <Route path="events/:id" element={<EventPage />} />
        <Route path="tickets/:id" element={<TicketPage />} />
        <Route path="sell" element={<SellPage />} />
        <Route path="listings" element={<MyListingsPage />} />
        <Route path="orders" element={<MyOrdersPage />} />
        <Route path="orders/:id" element={<OrderPage />} />
        <Route path="passes" element={<MyPassesPage />} />
        <Route path="scan" element={<ScanPage />} />
        <Route path="ops" element={<OpsPage />} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
