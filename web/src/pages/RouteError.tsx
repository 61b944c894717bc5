import { Component, type ReactNode } from "react";
import { Link } from "react-router";

/** A page that failed to render (or to load its chunk) says so instead of going blank. */
export class PageErrorBoundary extends Component<
  { children: ReactNode; resetKey: string },
  { failed: boolean }
> {
  override state = { failed: false };

  static getDerivedStateFromError() {
    return { failed: true };
  }

  override componentDidUpdate(previous: { resetKey: string }) {
    if (previous.resetKey !== this.props.resetKey && this.state.failed) this.setState({ failed: false });
  }

  override render() {
    if (!this.state.failed) return this.props.children;
    return (
      <section className="page">
        <h1>Something went wrong</h1>
        <p>This page could not be shown. Reloading usually helps; if not, please try again shortly.</p>
        <Link to="/">Back to the events</Link>
      </section>
    );
  }
}

export function NotFoundPage() {
  return (
    <section className="page">
      <h1>Page not found</h1>
      <p>There is nothing at this address.</p>
      <Link to="/">Back to the events</Link>
    </section>
  );
}
